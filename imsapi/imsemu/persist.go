package imsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stateVersion is the format of the state file; bump it when the format changes incompatibly.
const stateVersion = 1

// persistDelay batches the writes of a burst of changes into one: a crash loses at most the
// changes of the last persistDelay plus one write.
const persistDelay = 50 * time.Millisecond

type stateFile struct {
	Version    int       `json:"version"`
	Generation int64     `json:"generation"`
	Images     []*image  `json:"images"`
	Jobs       []*job    `json:"jobs"`
	Members    []*member `json:"members"`
}

// loadState reads the state file; found is false when it does not exist yet.
func loadState(path string) (st stateFile, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("imsemu: reading state file: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("imsemu: state file %s is not valid JSON (%v); delete it or choose another state path", path, err)
	}
	if st.Version != stateVersion {
		return st, false, fmt.Errorf("imsemu: state file %s has format version %d, this emulator reads %d; delete it or choose another state path", path, st.Version, stateVersion)
	}
	return st, true, nil
}

// restore rebuilds the indexes from a loaded state.
func (e *Emulator) restore(st stateFile) {
	e.generation = st.Generation
	for _, j := range st.Jobs {
		e.addJob(j)
	}
	for _, img := range st.Images {
		e.addImage(img)
	}
	for _, m := range st.Members {
		e.putMember(m)
	}
}

// snapshot serialises the state; it holds the read lock only while encoding.
func (e *Emulator) snapshot() ([]byte, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := stateFile{Version: stateVersion, Generation: e.generation, Images: e.allImages, Jobs: e.allJobs}
	for _, byProject := range e.members {
		for _, m := range byProject {
			st.Members = append(st.Members, m)
		}
	}
	return json.Marshal(st)
}

// persister writes the state file after changes, batching bursts, always atomically.
type persister struct {
	path     string
	snapshot func() ([]byte, error)
	logf     func(string, ...any)
	dirty    chan struct{}
	stop     chan struct{}
	stopped  chan struct{}

	mu      sync.Mutex
	lastErr error
}

func startPersister(path string, snapshot func() ([]byte, error), logf func(string, ...any)) *persister {
	p := &persister{path: path, snapshot: snapshot, logf: logf,
		dirty: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func (p *persister) markDirty() {
	select {
	case p.dirty <- struct{}{}:
	default: // a write is already pending and will include this change
	}
}

func (p *persister) loop() {
	defer close(p.stopped)
	for {
		select {
		case <-p.stop:
			return
		case <-p.dirty:
		}
		select {
		case <-p.stop:
			return // close writes the final state
		case <-time.After(persistDelay):
		}
		p.write()
	}
}

func (p *persister) write() {
	err := p.writeOnce()
	if err != nil {
		p.logf("imsemu: saving state to %s failed: %v", p.path, err)
	}
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// writeOnce writes a temporary file next to the state file and renames it over, so a crash
// leaves either the old or the new state, never half of one.
func (p *persister) writeOnce() error {
	b, err := p.snapshot()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.path), filepath.Base(p.path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p.path)
}

// close stops the writer and writes the final state.
func (p *persister) close() error {
	close(p.stop)
	<-p.stopped
	p.write()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastErr != nil {
		return fmt.Errorf("imsemu: saving state to %s: %w", p.path, p.lastErr)
	}
	return nil
}
