package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Files in DataDir.
const (
	dbFile       = "temporal.db"
	schemaMarker = "temporal.db.schema-complete"
	lockFile     = "temporal.lock"
)

// retention is how long the server keeps a closed workflow in a namespace this package creates.
// Temporal's own default is a day; a week lets `starter result` and `starter status` still answer
// about a copy that ended over a weekend.
const retention = 7 * 24 * time.Hour

// sqlConfig is the SQLite store at path.
//
// journal_mode=wal: a commit is appended to the write-ahead log and the database file is changed
// only at checkpoints, so a process killed at any instant (kill -9) leaves a file SQLite recovers
// on the next open, with every committed transaction.
// synchronous=full: each commit is fsynced, so the same holds after a power cut or an OS crash;
// at a dev server's load the cost does not show.
func sqlConfig(path string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "full",
		},
	}
}

// prepareStore makes sure dir holds a database with Temporal's schema and namespace registered.
//
// Creating the schema takes many statements; a process killed halfway would leave a database that
// every later start fails on. So a marker file is written once the schema is complete, and a
// database without it is known to be such a leftover (it holds no workflow yet) and is made again.
func prepareStore(dir, namespace string, logger *zap.Logger) (*config.SQL, error) {
	path := filepath.Join(dir, dbFile)
	cfg := sqlConfig(path)
	complete, err := exists(filepath.Join(dir, schemaMarker))
	if err != nil {
		return nil, err
	}
	if !complete {
		if err := createSchema(dir, cfg, logger); err != nil {
			return nil, err
		}
	}

	ns, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w", namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(retention)
	// A namespace that exists keeps its settings: CreateNamespaces skips it.
	if err := sqliteschema.CreateNamespaces(cfg, ns); err != nil {
		return nil, fmt.Errorf("register namespace %q in %s: %w", namespace, path, err)
	}
	return cfg, nil
}

func createSchema(dir string, cfg *config.SQL, logger *zap.Logger) error {
	path := cfg.DatabaseName
	leftover, err := exists(path)
	if err != nil {
		return err
	}
	if leftover {
		logger.Warn("discarding a Temporal database whose creation was interrupted", zap.String("path", path))
	}
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := sqliteschema.SetupSchema(cfg); err != nil {
		return fmt.Errorf("create Temporal's schema in %s: %w", path, err)
	}
	marker, err := os.Create(filepath.Join(dir, schemaMarker))
	if err != nil {
		return err
	}
	if _, err := marker.WriteString("Temporal's schema in " + dbFile + " is complete; do not delete this file.\n"); err != nil {
		_ = marker.Close()
		return err
	}
	if err := marker.Sync(); err != nil {
		_ = marker.Close()
		return err
	}
	if err := marker.Close(); err != nil {
		return err
	}
	return syncDir(dir)
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// syncDir makes the files just created in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Windows cannot sync a directory and does not need to.
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) && !errors.Is(err, fs.ErrPermission) {
		return err
	}
	return nil
}
