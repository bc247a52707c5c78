package data

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Batch is a mini-batch: N samples as one flat (N, C, H, W) float32 slice
// and their labels. Every batch owns its memory, so a caller may keep it.
type Batch struct {
	X     []float32 // N*C*H*W values
	Y     []int32   // N labels
	N     int
	Shape [4]int // (N, C, H, W)
	Index []int  // each sample's index in the dataset
}

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	BatchSize int    // samples per batch; required
	Shuffle   bool   // a new seeded permutation every epoch
	Seed      uint64 // drives shuffling and augmentation
	DropLast  bool   // skip a last batch smaller than BatchSize
	Augment   Augment
	Normalize *Normalize // applied after augmentation; nil for none
	Prefetch  int        // batches prepared ahead of the caller; 0 means 2
}

// Loader cuts a dataset into batches, one epoch at a time.
type Loader struct {
	ds   *Dataset
	opts LoaderOptions
}

// NewLoader checks opts against ds.
func NewLoader(ds *Dataset, opts LoaderOptions) (*Loader, error) {
	if opts.BatchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d must be positive", opts.BatchSize)
	}
	if opts.Normalize != nil {
		if err := opts.Normalize.check(ds.C); err != nil {
			return nil, err
		}
	}
	if opts.Augment.CropPadding < 0 {
		return nil, fmt.Errorf("data: crop padding %d must not be negative", opts.Augment.CropPadding)
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2
	}
	return &Loader{ds: ds, opts: opts}, nil
}

// Batches is the number of batches per epoch.
func (l *Loader) Batches() int {
	n, b := l.ds.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order is the sequence of sample indices of an epoch.
func (l *Loader) Order(epoch int) []int {
	if l.opts.Shuffle {
		return newRand(l.opts.Seed, streamShuffle, uint64(epoch)).Perm(l.ds.Len())
	}
	order := make([]int, l.ds.Len())
	for i := range order {
		order[i] = i
	}
	return order
}

// Epoch starts a goroutine that prepares the epoch's batches ahead of the
// caller (at most Prefetch of them waiting). The caller must Close the
// iterator (or cancel ctx) if it stops before the end.
func (l *Loader) Epoch(ctx context.Context, epoch int) *Iterator {
	ctx, cancel := context.WithCancel(ctx)
	it := &Iterator{ctx: ctx, cancel: cancel, ch: make(chan *Batch, l.opts.Prefetch), done: make(chan struct{})}
	go l.produce(ctx, epoch, it)
	return it
}

func (l *Loader) produce(ctx context.Context, epoch int, it *Iterator) {
	defer close(it.done)
	defer close(it.ch)
	order := l.Order(epoch)
	for b := 0; b < l.Batches(); b++ {
		idx := order[b*l.opts.BatchSize : min((b+1)*l.opts.BatchSize, len(order))]
		batch := l.makeBatch(idx, epoch)
		select {
		case it.ch <- batch:
		case <-ctx.Done():
			return
		}
	}
	it.completed.Store(true)
}

// makeBatch gathers, augments and normalises the samples at idx.
func (l *Loader) makeBatch(idx []int, epoch int) *Batch {
	ds, s := l.ds, l.ds.SampleSize()
	b := &Batch{X: make([]float32, len(idx)*s), Y: make([]int32, len(idx)), N: len(idx),
		Shape: [4]int{len(idx), ds.C, ds.H, ds.W}, Index: append([]int(nil), idx...)}
	for j, i := range idx {
		dst := b.X[j*s : (j+1)*s]
		if l.opts.Augment.Enabled() {
			rng := newRand(l.opts.Seed, streamAugment, uint64(epoch)<<40|uint64(i))
			l.opts.Augment.apply(dst, ds.Sample(i), ds.C, ds.H, ds.W, rng)
		} else {
			copy(dst, ds.Sample(i))
		}
		if l.opts.Normalize != nil {
			l.opts.Normalize.apply(dst, ds.C, ds.H*ds.W)
		}
		b.Y[j] = int32(ds.Y[i])
	}
	return b
}

// Iterator yields one epoch's batches in order. One goroutine consumes it.
type Iterator struct {
	ctx       context.Context
	cancel    context.CancelFunc
	ch        chan *Batch
	done      chan struct{}
	completed atomic.Bool // the producer sent every batch
	err       error
}

// Next returns the next batch, or false at the end of the epoch or after
// cancellation (see Err).
func (it *Iterator) Next() (*Batch, bool) {
	if it.err != nil {
		return nil, false
	}
	select {
	case b, ok := <-it.ch:
		if ok && it.ctx.Err() == nil {
			return b, true
		}
		if ok || !it.completed.Load() {
			it.err = context.Cause(it.ctx)
		}
	case <-it.ctx.Done():
		it.err = context.Cause(it.ctx)
	}
	return nil, false
}

// Err is why Next stopped early (the context's cause), or nil when the
// epoch ran to its end or is still running.
func (it *Iterator) Err() error { return it.err }

// Close stops the producer goroutine and waits for it to exit. It is safe
// to call more than once and after the epoch ended.
func (it *Iterator) Close() {
	it.cancel()
	<-it.done
}
