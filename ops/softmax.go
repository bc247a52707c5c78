package ops

import "fmt"

// axisView splits shape around axis into (outer, dim, inner).
func axisView(op string, x *Tensor, axis int) (outer, dim, inner, ax int) {
	ax = axis
	if ax < 0 {
		ax += x.Dims()
	}
	if ax < 0 || ax >= x.Dims() {
		shapeErr(op, fmt.Sprintf("axis %d out of range", axis), x)
	}
	outer, inner = Numel(x.Shape[:ax]), Numel(x.Shape[ax+1:])
	return outer, x.Shape[ax], inner, ax
}

// Softmax returns softmax along axis.
func (c *Context) Softmax(x *Tensor, axis int) *Tensor { return c.softmax("softmax", x, axis, false) }

// LogSoftmax returns log(softmax(x)) along axis, computed stably.
func (c *Context) LogSoftmax(x *Tensor, axis int) *Tensor {
	return c.softmax("log_softmax", x, axis, true)
}

func (c *Context) softmax(op string, x *Tensor, axis int, log bool) *Tensor {
	outer, dim, inner, _ := axisView(op, x, axis)
	p := SoftmaxParams{Outer: outer, Dim: dim, Inner: inner, Log: log}
	y := c.empty(x.Shape)
	check(op, c.b.Softmax(p, x, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			check(op+" backward", c.b.SoftmaxBackward(p, y, dy, c.gradFor(x)), x)
		})
	}
	return y
}

// CrossEntropy returns the mean over rows of -log softmax(logits)[label]
// for (rows, classes) logits and one integer label per row.
func (c *Context) CrossEntropy(logits *Tensor, labels []int) *Tensor {
	if logits.Dims() != 2 || logits.Shape[0] != len(labels) {
		shapeErr("cross_entropy", fmt.Sprintf("want logits (rows, classes) and %d labels", len(labels)), logits)
	}
	rows, classes := logits.Shape[0], logits.Shape[1]
	for i, l := range labels {
		if l < 0 || l >= classes {
			shapeErr("cross_entropy", fmt.Sprintf("label %d of row %d outside [0, %d)", l, i, classes), logits)
		}
	}
	probs, losses := c.empty(logits.Shape), c.empty([]int{rows})
	check("cross_entropy", c.b.CrossEntropy(logits, labels, probs, losses), logits)
	y := c.empty([]int{})
	check("cross_entropy", c.b.SumTo(losses, y, 1/float32(max(rows, 1)), 0), logits)
	if c.needsGrad(logits) {
		c.record(y, func(dy *Tensor) {
			dl := c.empty([]int{rows})
			fill(dl.Data, dy.Data[0]/float32(max(rows, 1)))
			check("cross_entropy backward", c.b.CrossEntropyBackward(probs, labels, dl, c.gradFor(logits)), logits)
		})
	}
	return y
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

// KLDiv returns the distillation loss KL(softmax(t/T) ‖ softmax(s/T))
// averaged over rows (torch's "batchmean") for (rows, classes) student
// logits s and teacher logits t. The teacher is treated as a constant: no
// gradient flows into it. Multiply by T² for Hinton's scaling.
func (c *Context) KLDiv(student, teacher *Tensor, temperature float32) *Tensor {
	if student.Dims() != 2 || !SameShape(student.Shape, teacher.Shape) {
		shapeErr("kl_div", "want student and teacher logits of equal shape (rows, classes)", student, teacher)
	}
	if temperature <= 0 {
		shapeErr("kl_div", fmt.Sprintf("temperature %v must be positive", temperature), student)
	}
	var pt, lpt *Tensor
	c.NoGrad(func() {
		scaled := c.MulScalar(teacher.Detach(), 1/temperature)
		pt, lpt = c.Softmax(scaled, 1), c.LogSoftmax(scaled, 1)
	})
	ls := c.LogSoftmax(c.MulScalar(student, 1/temperature), 1)
	kl := c.Mul(pt, c.Sub(lpt, ls))
	return c.MulScalar(c.SumAll(kl), 1/float32(student.Shape[0]))
}

// MSE returns the mean squared difference of a and b (equal shapes).
func (c *Context) MSE(a, b *Tensor) *Tensor {
	if !SameShape(a.Shape, b.Shape) {
		shapeErr("mse", "shapes differ", a, b)
	}
	return c.MeanAll(c.Square(c.Sub(a, b)))
}

// Dropout zeroes each element with probability p and scales the rest by
// 1/(1-p) in training mode; otherwise it returns x unchanged. The mask
// comes from the context's seeded random stream.
func (c *Context) Dropout(x *Tensor, p float32) *Tensor {
	if p < 0 || p >= 1 {
		shapeErr("dropout", fmt.Sprintf("probability %v outside [0, 1)", p), x)
	}
	if !c.opts.Train || p == 0 {
		return x
	}
	mask := c.empty(x.Shape)
	keep := 1 / (1 - p)
	for i := range mask.Data {
		if c.rng.Float32() < p {
			mask.Data[i] = 0
		} else {
			mask.Data[i] = keep
		}
	}
	y := c.empty(x.Shape)
	check("dropout", c.b.Binary(BinaryMul, x, mask, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) { c.accumProduct("dropout", x, dy, mask, 1) })
	}
	return y
}
