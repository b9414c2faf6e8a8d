package publisher

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// nats-server does not lock its JetStream store directory. Two embedded servers on one directory
// (a second `syndicate serve` with the same data dir, whose server moves to another port when
// nats.listen is taken) each keep their own idea of the stream's last sequence and append to the
// same message blocks: an event the second one acks is written under a sequence the first already
// used, the first never serves it, and a restart keeps only one of the two. Its relay marks the
// row sent all the same, so the event is lost. The embedded server therefore holds an exclusive
// lock on a file in its store directory for as long as it runs.

// ErrStoreDirInUse means another embedded server, in this process or another, holds the store
// directory.
var ErrStoreDirInUse = errors.New("publisher: the embedded nats-server's store directory is in use by another server (is another `syndicate serve` running with this data dir?)")

// storeLockName is the lock file in the store directory.
const storeLockName = "syndicate-nats.lock"

// storeLockWait bounds the wait for a lock held by a server of this process that is shutting
// down: its lock goes a moment after WaitForShutdown returns.
const storeLockWait = 2 * time.Second

// lockStoreDir takes the store directory's lock, creating the directory if needed. The returned
// function releases it.
func lockStoreDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("publisher: embedded nats-server store %s: %w", dir, err)
	}
	path := filepath.Join(dir, storeLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("publisher: lock embedded nats-server store %s: %w", dir, err)
	}
	deadline := time.Now().Add(storeLockWait)
	for {
		held, err := tryLockFile(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("publisher: lock embedded nats-server store %s: %w", dir, err)
		}
		if held {
			return func() { f.Close() }, nil // closing the file drops the lock
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: %s", ErrStoreDirInUse, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
