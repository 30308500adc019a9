package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFailureMessagesKeepToOneLine(t *testing.T) {
	assert.Equal(t, "activity Heartbeat timeout", firstLine("activity Heartbeat timeout"))
	assert.Equal(t, "IMS answered 503", firstLine("IMS answered 503\nstack:\n  at ..."))
	assert.Equal(t, "a bell and a tab", firstLine("a bell\a and a\t tab\r\nrest"))
}
