// The socket file: a stale one is removed before listening, anything else at its path is refused.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

func removeSocket(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it or listen elsewhere", path)
	}
	return os.Remove(path)
}
