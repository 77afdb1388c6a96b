package thumbnails_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/gorm-thumbnails/thumbnails/field"
	"github.com/gorm-thumbnails/thumbnails/internal/testdb"
)

// lostAnswerConn passes a connection's traffic through until armed and a
// COMMIT is written; then it drops the connection before the answer comes
// back: the server commits, the client never learns it.
type lostAnswerConn struct {
	net.Conn
	armed *atomic.Bool
	lost  atomic.Bool
}

func (c *lostAnswerConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if c.armed.Load() && bytes.Contains(bytes.ToLower(b), []byte("commit")) {
		c.armed.Store(false)
		c.lost.Store(true)
	}
	return n, err
}

func (c *lostAnswerConn) Read(b []byte) (int, error) {
	if c.lost.Load() {
		time.Sleep(100 * time.Millisecond) // the server commits meanwhile
		_ = c.Conn.Close()
		return 0, errors.New("test: connection dropped after COMMIT")
	}
	return c.Conn.Read(b)
}

// TestCommitAnswerLost: when a COMMIT's answer is lost, the save fails
// but its rows may have committed (here they did). The files of its
// uploads must stay, for whichever rows reference them; in the worst case
// they are orphans for Prune. Deleting them lost the committed row's
// image. Covers gorm's own transaction (Create, Save replacing an image)
// and the caller's (db.Transaction).
func TestCommitAnswerLost(t *testing.T) {
	for _, mode := range []string{"create", "save-replace", "transaction"} {
		t.Run(mode, func(t *testing.T) {
			cfg, err := pgx.ParseConfig(testdb.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			var armed atomic.Bool
			var dialer net.Dialer
			cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &lostAnswerConn{Conn: c, armed: &armed}, nil
			}
			sqlDB := stdlib.OpenDB(*cfg)
			t.Cleanup(func() { _ = sqlDB.Close() })
			db := testdb.Open(t, postgres.New(postgres.Config{Conn: sqlDB}))
			e := setup(t, db, &Food{})
			ctx := context.Background()

			row := Food{Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
			switch mode {
			case "create":
				armed.Store(true)
				err = db.Create(&row).Error
			case "save-replace":
				if err := db.Create(&row).Error; err != nil {
					t.Fatal(err)
				}
				row.Image = field.NewImage("q.jpg", reader(photo(t, pizzaJPG)))
				armed.Store(true)
				err = db.Save(&row).Error
			case "transaction":
				armed.Store(true)
				err = db.Transaction(func(tx *gorm.DB) error { return tx.Create(&row).Error })
			}
			armed.Store(false)
			if err == nil {
				t.Fatal("the save succeeded although its COMMIT's answer was lost")
			}
			var got []Food
			if err := db.Order("id").Find(&got).Error; err != nil || len(got) != 1 {
				t.Fatalf("%d rows, %v", len(got), err)
			}
			name := got[0].Image.Name()
			if !e.exists(t, name) {
				t.Fatalf("the row committed with %s, whose file the failed save deleted", name)
			}
			for _, size := range []string{"small", "medium"} {
				th, err := got[0].Image.Thumbnail(ctx, size)
				if err != nil || !e.exists(t, th.Name) {
					t.Errorf("%s of the committed row: %+v, %v (file there: %v)", size, th, err, err == nil && e.exists(t, th.Name))
				}
			}
		})
	}
}

// TestCommitAnsweredRollback: a COMMIT of a transaction that had failed is
// answered by a rollback (pgx: "commit unexpectedly resulted in
// rollback"). Nothing landed, so the files stored in it are deleted, as
// for any rollback: after gorm's Transaction (which calls Rollback after a
// failed Commit) and after Begin and Commit alone (a caller need not call
// Rollback then). The replaced image of an existing row stays whole.
func TestCommitAnsweredRollback(t *testing.T) {
	for _, manual := range []bool{false, true} {
		t.Run(map[bool]string{false: "Transaction", true: "Begin-Commit"}[manual], func(t *testing.T) {
			db := testdb.Postgres(t)
			e := setup(t, db, &Food{})
			base := Food{Name: "base", Image: field.NewImage("b.jpg", reader(photo(t, pizzaJPG)))}
			if err := db.Create(&base).Error; err != nil {
				t.Fatal(err)
			}
			before, name := e.files(t), base.Image.Name()
			work := func(tx *gorm.DB) error {
				row := Food{Name: "pizza", Image: field.NewImage("p.jpg", reader(photo(t, pizzaJPG)))}
				if err := tx.Create(&row).Error; err != nil {
					return err
				}
				if err := tx.Model(&base).Update("image", field.NewImage("r.jpg", reader(photo(t, pizzaJPG)))).Error; err != nil {
					return err
				}
				_ = tx.Exec("SELECT no_such_column FROM foods").Error // fails the transaction; ignored
				return nil
			}
			var err error
			if manual {
				tx := db.Begin()
				if err := work(tx); err != nil {
					t.Fatal(err)
				}
				err = tx.Commit().Error
			} else {
				err = db.Transaction(work)
			}
			if err == nil {
				t.Fatal("the commit of a failed transaction succeeded")
			}
			if files := e.files(t); !slices.Equal(files, before) {
				t.Errorf("files = %v, want those before the transaction, %v", files, before)
			}
			var got Food
			if err := db.First(&got, base.ID).Error; err != nil || got.Image.Name() != name {
				t.Fatalf("base row holds %q (%v), want %q", got.Image.Name(), err, name)
			}
			if _, err := got.Image.Thumbnail(context.Background(), "small"); err != nil {
				t.Errorf("base row's thumbnail: %v", err)
			}
		})
	}
}
