package main

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log"
	"net/http"
	"strconv"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gorm-thumbnails/thumbnails"
	"github.com/gorm-thumbnails/thumbnails/backends"
	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/sizes"
)

//go:embed sizes.yaml
var sizesYAML []byte

//go:embed templates/*.html
var templates embed.FS

// maxUpload bounds the body of an upload: the plugin's own limit (50 MiB)
// and a little for the rest of the form.
const maxUpload = 51 << 20

// Photo is one picture of the gallery.
type Photo struct {
	ID        uint
	Title     string
	Image     field.Image `thumbnails:"sizes:small,medium,large;dir:photos"`
	CreatedAt time.Time
}

// openDB opens the SQLite database at path with the thumbnails plugin:
// files under mediaDir served at /media/, placeholders on, and on-demand
// generation with key.
func openDB(path, mediaDir string, key []byte) (*gorm.DB, error) {
	set, err := sizes.Load(bytes.NewReader(sizesYAML))
	if err != nil {
		return nil, err
	}
	// _txlock=immediate: concurrent uploads queue for SQLite's one writer
	// instead of failing (see the README's "Faults and cleanup").
	db, err := gorm.Open(sqlite.Open(path+"?_txlock=immediate&_busy_timeout=5000"), &gorm.Config{Logger: logger.Default.LogMode(logger.Warn)})
	if err != nil {
		return nil, err
	}
	err = db.Use(thumbnails.Plugin(thumbnails.Config{
		Sizes:        set,
		Storage:      backends.NewFileSystemStorage(mediaDir, "/media/"),
		Placeholders: true,
		SigningKey:   key,
	}))
	if err != nil {
		return nil, err
	}
	if err := db.AutoMigrate(&Photo{}); err != nil {
		return nil, err
	}
	return db, nil
}

// server answers the gallery's pages.
type server struct {
	db   *gorm.DB
	page *template.Template
}

// newServer returns the gallery's handler: the page, the upload and delete
// forms, and the images under /media/.
func newServer(db *gorm.DB) (http.Handler, error) {
	page, err := template.ParseFS(templates, "templates/index.html")
	if err != nil {
		return nil, err
	}
	media, err := thumbnails.Handler(db, thumbnails.HandlerOptions{})
	if err != nil {
		return nil, err
	}
	s := &server{db: db, page: page}
	mux := http.NewServeMux()
	mux.Handle("GET /media/", media)
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("POST /photos", s.upload)
	mux.HandleFunc("POST /photos/{id}/delete", s.delete)
	// The forms change data: refuse them from other sites.
	return http.NewCrossOriginProtection().Handler(mux), nil
}

// photoView is what the page shows of a Photo.
type photoView struct {
	ID    uint
	Title string
	Img   field.Responsive // small, with medium for high-density screens
	Large string           // signed: made on the first click
}

// pageData fills the page template.
type pageData struct {
	Photos []photoView
	Error  string
}

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "")
}

// render writes the page with every photo, newest first, and an error
// message if msg is not empty.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	var photos []Photo
	// Preload: the thumbnails and placeholders of the whole page in one query.
	if err := s.db.WithContext(ctx).Scopes(thumbnails.Preload()).Order("id DESC").Find(&photos).Error; err != nil {
		s.fail(w, r, err)
		return
	}
	data := pageData{Error: msg, Photos: make([]photoView, 0, len(photos))}
	for _, p := range photos {
		img, err := p.Image.Responsive(ctx, "small", "medium")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		large, err := p.Image.SignedURL("large")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Photos = append(data.Photos, photoView{ID: p.ID, Title: p.Title, Img: img, Large: large})
	}
	var buf bytes.Buffer
	if err := s.page.Execute(&buf, data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *server) upload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	file, hdr, err := r.FormFile("photo")
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "Choose a photo to upload.")
		return
	}
	defer file.Close()
	title := r.FormValue("title")
	if title == "" {
		title = hdr.Filename
	}
	photo := Photo{Title: title, Image: field.NewImage(hdr.Filename, file)}
	err = s.db.WithContext(r.Context()).Create(&photo).Error
	switch {
	case errors.Is(err, thumbnails.ErrInvalidImage):
		s.render(w, r, http.StatusBadRequest, "That is not a JPEG, PNG, GIF or WebP image.")
	case errors.Is(err, thumbnails.ErrImageTooLarge):
		s.render(w, r, http.StatusRequestEntityTooLarge, "That image is too large.")
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

func (s *server) delete(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	// The plugin deletes the files once the row's deletion has committed.
	res := s.db.WithContext(r.Context()).Delete(&Photo{}, id)
	if res.Error != nil {
		s.fail(w, r, res.Error)
		return
	}
	if res.RowsAffected == 0 {
		http.NotFound(w, r)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// fail logs err and answers 500.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	log.Printf("gallery: %s %s: %v", r.Method, r.URL.Path, err)
	http.Error(w, "internal server error", http.StatusInternalServerError)
}
