package cluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Temporal's SQL schema stores a membership port as a smallint: a port above 32767 makes the
// server fail at start ("value out of range for type smallint"). The kernel hands out ephemeral
// ports above that, so every port is picked here, below it.
const (
	lowPort  = 20000
	highPort = 32767
)

// portPicker hands out free loopback ports, each once.
type portPicker struct {
	taken map[int]bool
}

func newPortPicker() *portPicker { return &portPicker{taken: map[int]bool{}} }

func free(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// run returns the first of n consecutive free ports (the emulator serves region i on port+i).
func (p *portPicker) run(n int) (int, error) {
	for range 1000 {
		first := lowPort + rand.IntN(highPort-lowPort-n)
		ok := true
		for port := first; port < first+n && ok; port++ {
			ok = !p.taken[port] && free(port)
		}
		if ok {
			for port := first; port < first+n; port++ {
				p.taken[port] = true
			}
			return first, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive ports on %s between %d and %d", n, loopback, lowPort, highPort)
}

func (p *portPicker) one() (int, error) { return p.run(1) }

// loopback is the only address anything of the cluster listens on: nothing here has a password
// worth the name.
const loopback = "127.0.0.1"

func hostPort(port int) string { return net.JoinHostPort(loopback, strconv.Itoa(port)) }
