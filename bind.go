package thumbnails

import (
	"fmt"
	"reflect"

	"gorm.io/gorm"
)

// Bind attaches the plugin to the images of dest, rows that were loaded
// without gorm's query callbacks: by Scan (db.Raw(...).Scan, or
// db.Model(&Food{}).Scan), by Rows and ScanRows, or decoded from a cache.
// Their Thumbnail and Thumbnails then answer as those of rows loaded by
// Find, First or Take, which are bound
// already (an unbound image answers field.ErrNotBound). dest is a pointer to
// a model, or a slice (or pointer to a slice) of models or of pointers to
// them. Bind makes no query; pass the transaction the rows were read in, if
// any, as db, and rows read from another table than the model's through
// db.Table(name) (an archive's rows are others than the model's with the
// same key: an image read there and saved into the model's table is a
// copy).
func Bind(db *gorm.DB, dest any) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(dest)
	if k := v.Kind(); k != reflect.Pointer && k != reflect.Slice || k == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("%w: Bind(%T): want a pointer to a model, or a slice of models", ErrInvalidConfig, dest)
	}
	m, err := p.modelFor(db, dest)
	if err != nil {
		return err
	}
	m.bind(db, v)
	return nil
}
