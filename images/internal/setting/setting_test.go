package setting

import (
	"testing"
	"time"
)

func TestStringFallsBackWhenUnsetOrEmpty(t *testing.T) {
	t.Setenv("SWARM_HA_TEST_SETTING", "")
	if got := String("SWARM_HA_TEST_SETTING", "x"); got != "x" {
		t.Errorf("empty: %q", got)
	}
	t.Setenv("SWARM_HA_TEST_SETTING", "y")
	if got := String("SWARM_HA_TEST_SETTING", "x"); got != "y" {
		t.Errorf("set: %q", got)
	}
}

func TestDurationRefusesWhatIsNotAPositiveDurationByName(t *testing.T) {
	t.Setenv("POLL_INTERVAL", "")
	if d, err := Duration("POLL_INTERVAL", "250ms"); err != nil || d != 250*time.Millisecond {
		t.Errorf("fallback: %v, %v", d, err)
	}
	for _, bad := range []string{"soon", "0s", "-1s", "5"} {
		t.Setenv("POLL_INTERVAL", bad)
		_, err := Duration("POLL_INTERVAL", "250ms")
		want := `POLL_INTERVAL is "` + bad + `"; use a duration such as 250ms`
		if err == nil || err.Error() != want {
			t.Errorf("%q: err = %v, want %s", bad, err, want)
		}
	}
}
