package backends_test

import (
	"context"
	"fmt"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/memblob" // "mem://"; a program imports s3blob for "s3://"

	"github.com/gorm-thumbnails/thumbnails/backends"
)

func ExampleNewBlobStorage() {
	ctx := context.Background()
	// With S3: blob.OpenBucket(ctx, "s3://my-bucket?region=us-east-1").
	bucket, err := blob.OpenBucket(ctx, "mem://")
	if err != nil {
		panic(err)
	}
	defer bucket.Close()

	storage := backends.NewBlobStorage(bucket, "https://cdn.example/")
	name, err := storage.Save(ctx, "foods/ab12.jpg", strings.NewReader("..."))
	if err != nil {
		panic(err)
	}
	fmt.Println(storage.URL(name))

	_ = storage.(backends.Lister).List(ctx, func(f backends.FileInfo) error {
		fmt.Println(f.Name, f.Size)
		return nil
	})
	// Output:
	// https://cdn.example/foods/ab12.jpg
	// foods/ab12.jpg 3
}
