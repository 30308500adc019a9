package cluster

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Usage is what the cluster's Temporal server and PostgreSQL have cost so far, since Start:
// server processes killed and started again, and PostgreSQL before a crash, included.
type Usage struct {
	ServerCPU   time.Duration // the Temporal server processes, user and system
	PostgresCPU time.Duration // PostgreSQL's postmaster and every backend, ended ones included
	// DatabaseBytes is the size of PostgreSQL's databases' files (its base/ folder): tables and
	// indexes, not the write-ahead log, which PostgreSQL recycles in fixed segments.
	DatabaseBytes int64
}

// Usage reads the CPU times from /proc (Linux) and the databases' size from the data folder.
func (c *Cluster) Usage() (Usage, error) {
	var u Usage
	server, err := procTimes(c.server.Pid())
	if err != nil {
		return u, err
	}
	u.ServerCPU = c.endedServerCPU + server.self
	pm := c.pg.proc.Pid()
	postmaster, err := procTimes(pm)
	if err != nil {
		return u, err
	}
	// Backends that ended were waited for by the postmaster: their time is in its children's.
	u.PostgresCPU = c.pg.endedCPU + postmaster.self + postmaster.children
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pm {
			continue
		}
		t, err := procTimes(pid)
		if err == nil && t.ppid == pm {
			u.PostgresCPU += t.self
		}
	}
	err = filepath.WalkDir(filepath.Join(c.pg.dir, "base"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			u.DatabaseBytes += info.Size()
		}
		return nil
	})
	return u, err
}

// Sub is the usage between before and u.
func (u Usage) Sub(before Usage) Usage {
	return Usage{ServerCPU: u.ServerCPU - before.ServerCPU, PostgresCPU: u.PostgresCPU - before.PostgresCPU,
		DatabaseBytes: u.DatabaseBytes - before.DatabaseBytes}
}

type times struct {
	ppid           int
	self, children time.Duration
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times; 100 on every Linux the
// project runs on.
const clockTicks = 100

// procTimes reads a process's parent and CPU times from /proc/<pid>/stat.
func procTimes(pid int) (times, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return times{}, fmt.Errorf("read the CPU time of pid %d (Linux only): %w", pid, err)
	}
	// The command name, field 2, is in parentheses and may hold spaces: fields count from after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return times{}, fmt.Errorf("/proc/%d/stat: unreadable", pid)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
	tick := time.Second / clockTicks
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
	return times{ppid: int(n(1)), self: time.Duration(n(11)+n(12)) * tick, children: time.Duration(n(13)+n(14)) * tick}, nil
}
