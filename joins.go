package thumbnails

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gorm-thumbnails/thumbnails/field"
)

// bindJoined binds the images of the associations the query on db joined
// (db.Joins("Author"), or "Author.Company" for a nested one), which gorm
// scans into a struct field of each row m loaded, and returns those to
// preload: for a query with Preload, the images of the joined model's
// columns that have one of the sizes named (all of them without names).
func (p *plugin) bindJoined(db *gorm.DB, m *model) []*field.Image {
	if len(db.Statement.Joins) == 0 {
		return nil
	}
	req, _, preloading := preloadRequestOf(db)
	var images []*field.Image
	for _, j := range p.joinedModels(db, m) {
		var preload []bool // the columns to preload, nil for none
		if preloading {
			want := j.model.columns
			if len(req.sizes) > 0 {
				want = j.model.columnsWithAny(req.sizes)
			}
			preload = make([]bool, len(j.model.columns))
			for i, col := range j.model.columns {
				preload[i] = slices.Contains(want, col)
			}
		}
		binders := j.model.binders(db)
		eachRow(db.Statement.ReflectValue, m.schema.ModelType, func(row reflect.Value) {
			v := row
			for _, rel := range j.path {
				v = reflect.Indirect(rel.Field.ReflectValueOf(context.Background(), v))
				if !v.IsValid() || v.Type() != rel.FieldSchema.ModelType {
					return // a nil pointer: nothing joined
				}
			}
			images = j.model.bindRow(db, v, binders, tableRef{}, preload, nil, images) // rows of their own table
		})
	}
	return images
}

// joined is a model the query joins, and the relationships that lead to
// it from the query's model.
type joined struct {
	path  []*schema.Relationship
	model *model
}

// joinedModels returns the models with image columns that the query on db
// joins by association, from m: each model along a nested join's path
// ("Author.Company" joins and scans the author too), once.
func (p *plugin) joinedModels(db *gorm.DB, m *model) []joined {
	var (
		out  []joined
		seen map[string]bool // the paths in out, as "Author.Company"
	)
	for _, j := range db.Statement.Joins {
		path, ok := relationPath(m.schema, j.Name)
		if !ok {
			continue // a join by SQL, not by association
		}
		for i := range path {
			key := relationName(path[:i+1])
			if seen[key] {
				continue
			}
			if jm, err := p.model(path[i].FieldSchema); err == nil && jm != nil {
				if seen == nil {
					seen = make(map[string]bool)
				}
				seen[key] = true
				out = append(out, joined{path: path[: i+1 : i+1], model: jm})
			}
		}
	}
	return out
}

// relationName is the name of the relationships of path, as Joins takes it.
func relationName(path []*schema.Relationship) string {
	names := make([]string, len(path))
	for i, rel := range path {
		names[i] = rel.Name
	}
	return strings.Join(names, ".")
}

// joinedHave reports whether every size of sizes is a size of a column
// of m or of a model the query on db joins: Preload's names may be sizes of
// the joined models only.
func (p *plugin) joinedHave(db *gorm.DB, m *model, sizes []string) bool {
	models := []*model{m}
	for _, j := range p.joinedModels(db, m) {
		models = append(models, j.model)
	}
	for _, s := range sizes {
		if !slices.ContainsFunc(models, func(jm *model) bool { return len(jm.columnsWithAny([]string{s})) > 0 }) {
			return false
		}
	}
	return true
}

// relationPath returns the relationships that name ("Author", or
// "Author.Company") follows from s.
func relationPath(s *schema.Schema, name string) ([]*schema.Relationship, bool) {
	var path []*schema.Relationship
	for part := range strings.SplitSeq(name, ".") {
		rel, ok := s.Relationships.Relations[part]
		if !ok || rel.FieldSchema == nil || rel.Field == nil {
			return nil, false
		}
		path = append(path, rel)
		s = rel.FieldSchema
	}
	return path, len(path) > 0
}
