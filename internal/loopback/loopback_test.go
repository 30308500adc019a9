package loopback

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreeAddrCanBeListenedOn(t *testing.T) {
	addr, err := FreeAddr()
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "0", port)
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err, "the address is free once FreeAddr has returned")
	require.NoError(t, l.Close())
}
