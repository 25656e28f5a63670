// Package setting reads the images' settings from the environment, refusing a bad one by name.
package setting

import (
	"fmt"
	"os"
	"time"
)

// String is the environment's value of key, or fallback when it is unset or empty.
func String(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// Duration is key's value (or fallback's) as a positive duration; an error names the key and the
// value that is not one.
func Duration(key, fallback string) (time.Duration, error) {
	d, err := time.ParseDuration(String(key, fallback))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s is %q; use a duration such as %s", key, os.Getenv(key), fallback)
	}
	return d, nil
}
