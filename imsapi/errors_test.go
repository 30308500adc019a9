package imsapi

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   Class
	}{
		{400, "IMG.0001", ClassInvalid},
		{400, "IMG.0003", ClassInvalid},
		{400, "IMG.0054", ClassInvalid},
		{400, "IMG.0130", ClassInvalid},
		{400, "IMG.0143", ClassInvalid},
		{400, "", ClassInvalid},
		{404, "IMG.0027", ClassNotFound},
		{400, "IMG.0027", ClassNotFound}, // the code wins when IMS answers 400 for an unknown image
		{404, "IMG.0023", ClassNotFound},
		{404, "", ClassNotFound},
		{403, "", ClassForbidden},
		{403, "APIGW.0302", ClassForbidden},
		{400, "IMG.0099", ClassForbidden},
		{401, "APIGW.0301", ClassAuth},
		{401, "APIGW.0303", ClassAuth},
		{401, "", ClassAuth},
		{400, "IMG.0015", ClassQuota},
		{400, "IMG.0088", ClassQuota},
		{429, "APIGW.0308", ClassThrottled},
		{429, "", ClassThrottled},
		{400, "IMG.0060", ClassThrottled},
		{400, "IMG.0149", ClassThrottled},
		{400, "IMG.0090", ClassBusy},
		{500, "", ClassTransient},
		{502, "", ClassTransient},
		{503, "IMG.0000", ClassTransient},
		{504, "", ClassTransient},
		{408, "", ClassTransient},
		{200, "", ClassUnknown},
		{302, "", ClassUnknown},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.code), func(t *testing.T) {
			assert.Equal(t, tc.want, Classify(tc.status, tc.code))
		})
	}
}

func TestClassRetryable(t *testing.T) {
	retryable := map[Class]bool{ClassThrottled: true, ClassBusy: true, ClassTransient: true}
	for _, c := range []Class{ClassInvalid, ClassNotFound, ClassForbidden, ClassAuth, ClassQuota,
		ClassThrottled, ClassBusy, ClassTransient, ClassUnknown} {
		assert.Equal(t, retryable[c], c.Retryable(), c)
	}
}

func TestErrorMessageAndUnwrap(t *testing.T) {
	e := &Error{Op: "CopyInRegion", Status: 400, Code: "IMG.0003", Message: "name format invalid", RequestID: "abc"}
	assert.Equal(t, "CopyInRegion: IMS answered 400 IMG.0003: name format invalid (request abc)", e.Error())

	e = &Error{Op: "CopyInRegion", Status: 200, Message: "IMS answered without a job_id", RequestID: "abc"}
	assert.Equal(t, "CopyInRegion: IMS answered without a job_id (request abc)", e.Error(), "a success found wanting")

	e = &Error{Op: "GetJob", Message: "EOF", Err: context.Canceled}
	assert.Equal(t, "GetJob: no response from IMS: EOF", e.Error())
	assert.ErrorIs(t, fmt.Errorf("wrapped: %w", e), context.Canceled)

	assert.Equal(t, ClassBusy, ClassOf(fmt.Errorf("x: %w", &Error{Class: ClassBusy})))
	assert.Equal(t, ClassInvalid, ClassOf(ValidateName("")))
	assert.Equal(t, ClassUnknown, ClassOf(errors.New("other")))
}
