// Command gallery is a small photo gallery on the thumbnails plugin, with
// the standard library's net/http and html/template: an upload form, a grid
// of thumbnails (srcset, width and height, a blurred placeholder while each
// loads) and delete buttons. A click on a photo opens its large size, made
// on that first request through a signed URL. SQLite and local files:
//
//	go run ./examples/gallery          # http://127.0.0.1:8080/, gallery.db and ./media
//	go run ./examples/gallery -addr 127.0.0.1:9000 -db /tmp/g.db -media /tmp/media
//
// GALLERY_SIGNING_KEY (at least 16 bytes) signs the large sizes' URLs; without
// it a random key is made at start, so links to large sizes not made yet
// stop working when the server restarts.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := flag.String("db", "gallery.db", "SQLite database file")
	media := flag.String("media", "media", "folder of the images")
	flag.Parse()

	key := []byte(os.Getenv("GALLERY_SIGNING_KEY"))
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
	}
	db, err := openDB(*dbPath, *media, key)
	if err != nil {
		log.Fatal(err)
	}
	h, err := newServer(db)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown) // lets the requests in flight finish
	}()
	log.Printf("gallery: http://%s/", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-done
}
