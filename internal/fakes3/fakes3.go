// Package fakes3 runs an S3 server inside a test: gofakes3, in memory,
// behind httptest, reached through the real AWS SDK v2 client and opened as
// a gocloud.dev/blob bucket with s3blob, the way a program opens a real
// S3-compatible store. Every request crosses HTTP and the S3 protocol.
//
// The package is internal: only the module's tests import it, so that no
// package of the module links the AWS SDK outside its tests.
package fakes3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// BucketName is the name of the one bucket a Server holds.
const BucketName = "media"

// Server is a fake S3 server with one bucket, closed at the end of the test.
type Server struct {
	// Bucket is the server's bucket, opened with s3blob over the AWS SDK.
	Bucket *blob.Bucket
	// Requests counts the HTTP requests the server has served.
	Requests atomic.Int64

	clock clock
	aging sync.Mutex // one Age at a time: it moves the clock
}

// New starts a server with an empty bucket BucketName and opens it.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	// Only the storage backend reads the clock, to stamp what it writes: the
	// protocol layer keeps real time, so that request signatures stay valid.
	mem := s3mem.New(s3mem.WithTimeSource(&s.clock))
	if err := mem.CreateBucket(BucketName); err != nil {
		t.Fatal(err)
	}
	handler := gofakes3.New(mem).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("key", "secret", ""),
		HTTPClient:   srv.Client(),
	})
	bucket, err := s3blob.OpenBucketV2(context.Background(), client, BucketName, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	s.Bucket = bucket
	return s
}

// Keys returns the sorted keys of every object of the bucket.
func (s *Server) Keys(t testing.TB) []string {
	t.Helper()
	var keys []string
	it := s.Bucket.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
	slices.Sort(keys)
	return keys
}

// Age rewrites the object key, content and type unchanged, as if it had
// been written d ago: its last-modified time, as a listing reports it, is
// then d in the past. S3 has no other way to set it. Objects written by
// others while Age runs would be stamped d in the past too: call it while
// nothing else writes to the bucket.
func (s *Server) Age(t testing.TB, key string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	attrs, err := s.Bucket.Attributes(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.Bucket.ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	s.aging.Lock()
	defer s.aging.Unlock()
	s.clock.offset.Store(int64(-d))
	defer s.clock.offset.Store(0)
	if err := s.Bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: attrs.ContentType}); err != nil {
		t.Fatal(err)
	}
}

// clock is real time moved by an offset, in the GMT zone S3 reports.
type clock struct{ offset atomic.Int64 } // time.Duration

var gmt = time.FixedZone("GMT", 0)

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())).In(gmt) }

func (c *clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
