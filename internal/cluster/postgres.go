package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// InstallHint says how to get PostgreSQL where it is missing.
const InstallHint = "PostgreSQL is not installed: install it with `apt-get install postgresql-15` " +
	"(or `apt-get install postgresql`); the cluster runs its own server from the packages' binaries " +
	"(initdb, postgres in /usr/lib/postgresql/<version>/bin), not the system's service"

// ErrNoPostgres is returned when no PostgreSQL binaries are found.
var ErrNoPostgres = errors.New(InstallHint)

// PostgresBinDir finds the folder of the installed PostgreSQL server's binaries: the newest
// version under /usr/lib/postgresql (Debian's packages), or what `pg_config --bindir` says.
func PostgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if usable(d) {
			return d, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); usable(d) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func usable(binDir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil {
			return false
		}
	}
	return true
}

// postgres is a PostgreSQL server of the cluster's own, in its own data folder, on a loopback port.
type postgres struct {
	bin      string
	dir      string // the data folder
	port     int
	user     string // the superuser, as the postgres image's POSTGRES_USER
	password string
	cred     *syscall.Credential
	logPath  string
	proc     *Proc
	// endedCPU is the CPU of the earlier postmasters (and their backends) of this data folder,
	// ended by a crash and a restart, so that Usage covers the cluster's whole life.
	endedCPU time.Duration
}

// osUser is who runs PostgreSQL: initdb and postgres refuse root, so root runs them as the
// `postgres` user the packages create.
func osUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user, and there is none: %w (%s)", err, InstallHint)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// initPostgres creates the data folder with initdb unless it holds one already, with a superuser
// named and protected as the Compose file's postgresql service's.
func initPostgres(bin, dir, logDir, superuser, password string) (*postgres, error) {
	cred, err := osUser()
	if err != nil {
		return nil, err
	}
	pg := &postgres{bin: bin, dir: dir, user: superuser, password: password, cred: cred,
		logPath: filepath.Join(logDir, "postgresql.log")}
	if cred != nil {
		if err := reachable(filepath.Dir(dir)); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return pg, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	pwfile := filepath.Join(filepath.Dir(dir), "pgpass.tmp")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(pwfile)
	if cred != nil {
		for _, path := range []string{dir, pwfile} {
			if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, err
			}
		}
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", dir, "-U", superuser, "--pwfile", pwfile,
		"--auth", "scram-sha-256", "-E", "UTF8", "--no-locale")
	cmd.Dir = filepath.Dir(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(logDir, "initdb.log"), out, 0o644)
	if err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return pg, nil
}

// reachable checks that the postgres user can enter every folder down to dir, which root's
// private temporary folders (mode 0700) forbid; initdb would fail with a bare "permission denied".
func reachable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("PostgreSQL runs as the postgres user, who cannot enter %s (mode %v): give the cluster a folder it can reach, e.g. under /tmp", p, info.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// start runs the server on port, listening on loopback only (its Unix socket in its data folder,
// away from the system's /var/run/postgresql), and waits until it takes connections.
func (pg *postgres) start(port int) error {
	if pg.proc != nil {
		pg.endedCPU += pg.proc.EndedCPU() // it has ended: start follows stop or crash
	}
	pg.port = port
	p, err := startProc(procSpec{
		name: "postgresql", path: filepath.Join(pg.bin, "postgres"),
		args: []string{"-D", pg.dir, "-c", "listen_addresses=" + loopback, "-c", "port=" + strconv.Itoa(port),
			"-c", "unix_socket_directories=" + pg.dir},
		env: []string{"LC_ALL=C"}, dir: filepath.Dir(pg.dir), log: pg.logPath, cred: pg.cred,
	})
	if err != nil {
		return err
	}
	pg.proc = p
	return p.WaitLine("database system is ready to accept connections", 2*time.Minute)
}

// stop is PostgreSQL's fast shutdown: sessions are ended, the data is checkpointed.
func (pg *postgres) stop() {
	if pg.proc != nil {
		pg.proc.Signal(syscall.SIGINT, time.Minute)
	}
}

// crash is PostgreSQL's immediate shutdown: every process quits at once, without a checkpoint,
// and the next start recovers from the write-ahead log, as after a power cut.
func (pg *postgres) crash() {
	pg.proc.Signal(syscall.SIGQUIT, time.Minute)
}
