package data

import (
	"os"
	"path/filepath"
)

// Options configure Open. The zero value opens a built-in dataset with no
// validation split.
type Options struct {
	// Path is the user's dataset folder for the file formats (cifar10,
	// cifar100, imagefolder, idx, npy).
	Path string
	// AllowedDir, when set, confines Path (symbolic links resolved) to
	// this folder.
	AllowedDir string
	// DataDir is where built-in datasets are looked for and cached. Empty
	// means $QPIPE_DATA, or os.UserCacheDir()/qpipe/datasets without it.
	DataDir string
	// ValSplit is the fraction of the training set carved, with Seed, into
	// the Validation split; 0 leaves Validation nil.
	ValSplit float64
	// Seed drives the validation carving.
	Seed uint64
	// Offline forbids running the go tool to download MNIST.
	Offline bool
	// GoTool is the go binary used to download MNIST; empty means "go" on PATH.
	GoTool string
	// Coarse selects CIFAR-100's 20 superclass labels instead of the 100 fine ones.
	Coarse bool
	// Height, Width and Channels set the image folder's target shape (see
	// ImageFolderOptions).
	Height, Width, Channels int
	// ChannelsLast reads 4-d .npy images as (N, H, W, C).
	ChannelsLast bool
	// Logf, when set, receives notices that are not errors (e.g. a cache copy
	// that could not be written).
	Logf func(format string, args ...any)
}

// EnvDataDir is the environment variable naming the qpipe data directory.
const EnvDataDir = "QPIPE_DATA"

// dataDir is the qpipe data directory (see Options.DataDir).
func (o Options) dataDir() (string, error) {
	if o.DataDir != "" {
		return o.DataDir, nil
	}
	if d := os.Getenv(EnvDataDir); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fileErr("(user cache directory)", "set "+EnvDataDir+" to a writable folder", err,
			"cannot find a cache directory")
	}
	return filepath.Join(base, "qpipe", "datasets"), nil
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// DataDir is the folder Open uses for built-in datasets under opts: where
// to put copies so qpipe finds them.
func DataDir(opts Options) (string, error) { return opts.dataDir() }
