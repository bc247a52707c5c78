package data

import (
	"context"
	"testing"
)

// Benchmarks report throughput only; run with
//   go test -run '^$' -bench . -benchtime 3x ./ops/data/

func benchLoader(b *testing.B, ds *Dataset, opts LoaderOptions) {
	l, err := NewLoader(ds, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for e := range b.N {
		it := l.Epoch(context.Background(), e)
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
		it.Close()
	}
	b.ReportMetric(float64(ds.Len()*b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkLoaderMNISTShape(b *testing.B) {
	ds := synthetic(60000, 1, 28, 28, 10)
	b.Run("plain", func(b *testing.B) {
		benchLoader(b, ds, LoaderOptions{BatchSize: 128, Shuffle: true})
	})
	b.Run("augment+normalize", func(b *testing.B) {
		benchLoader(b, ds, LoaderOptions{BatchSize: 128, Shuffle: true, Augment: Augment{CropPadding: 3},
			Normalize: &Normalize{Mean: []float32{0.1307}, Std: []float32{0.3081}}})
	})
}

func BenchmarkLoaderCIFARShape(b *testing.B) {
	ds := synthetic(50000, 3, 32, 32, 10)
	benchLoader(b, ds, LoaderOptions{BatchSize: 128, Shuffle: true, Augment: Augment{CropPadding: 4, HFlip: true},
		Normalize: &Normalize{Mean: []float32{0.49, 0.48, 0.45}, Std: []float32{0.25, 0.24, 0.26}}})
}

func BenchmarkCorruptCIFARShape(b *testing.B) {
	ds := natural(1000, 3, 32, 32)
	for _, name := range CorruptionNames() {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				Corrupt(ds, name, 3, 1)
			}
			b.ReportMetric(float64(ds.Len()*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

func BenchmarkOpenMNIST(b *testing.B) {
	dir := b.TempDir()
	if _, err := Open("mnist", Options{DataDir: dir}); err != nil { // fill the cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Open("mnist", Options{DataDir: dir, Offline: true}); err != nil {
			b.Fatal(err)
		}
	}
}
