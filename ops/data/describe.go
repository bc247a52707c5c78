package data

// Info is what a planner needs to know about a dataset before opening it:
// the image shape, the classes and the split sizes.
type Info struct {
	C, H, W     int
	Classes     int
	Train, Test int
}

// builtinInfo are the fixed facts of the built-in datasets whose files
// are pinned (checksummed) or whose format fixes them; TestDescribe
// checks them against the opened datasets where they are on the machine.
var builtinInfo = map[string]Info{
	"mnist":        {C: 1, H: 28, W: 28, Classes: 10, Train: 60000, Test: 10000},
	"fashionmnist": {C: 1, H: 28, W: 28, Classes: 10, Train: 60000, Test: 10000},
	"digits":       {C: 1, H: 28, W: 28, Classes: 10, Train: 1438, Test: 359},
	"cifar10":      {C: 3, H: 32, W: 32, Classes: 10, Train: 50000, Test: 10000},
	"cifar100":     {C: 3, H: 32, W: 32, Classes: 100, Train: 50000, Test: 10000},
}

// Describe tells a dataset's shape and split sizes without reading it,
// after carving opts.ValSplit out of the training set as Open does. It
// knows the built-in datasets; folder formats (imagefolder, idx, npy)
// are only known once opened, and give false.
func Describe(name string, opts Options) (Info, bool) {
	info, ok := builtinInfo[key(name)]
	if !ok {
		return Info{}, false
	}
	if key(name) == "cifar100" && opts.Coarse {
		info.Classes = 20
	}
	if opts.ValSplit > 0 && opts.ValSplit < 1 {
		info.Train -= int(roundHalfAway(opts.ValSplit * float64(info.Train)))
	}
	return info, true
}

func roundHalfAway(x float64) float64 {
	if x < 0 {
		return -roundHalfAway(-x)
	}
	return float64(int64(x + 0.5))
}
