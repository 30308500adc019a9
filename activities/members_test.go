package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
)

const recipient = "9a1b2c3d4e5f40718293a4b5c6d7e8f9"

// sharedCopy is a finished, unencrypted copy on an emulator where recipient is another project of
// the home region.
func sharedCopy(t *testing.T) (*imsemu.Server, *Activities, string) {
	t.Helper()
	clock := newIMSClock()
	srv, a := startIMS(t, imsemu.Config{JobDuration: time.Minute, Now: clock.Now,
		OtherProjects: map[string][]string{home: {recipient}}})
	req := copyRequest("golden-shared")
	req.CMKID = "" // IMS cannot share an encrypted image
	_, err := newActivityEnv(a).ExecuteActivity(a.SubmitCopy, SubmitCopyInput{Region: home, Request: req})
	require.NoError(t, err)
	clock.Advance(2 * time.Minute)
	// Member jobs end as they are read about, however slowly the test runs.
	clock.step(srv, imsemu.RouteShowJobProgress, 30*time.Second)
	clock.step(srv, imsemu.RouteShowJob, 30*time.Second)
	return srv, a, liveImages(srv, "golden-shared")[0].ID
}

func members(t *testing.T, a *Activities, imageID string) []MemberState {
	t.Helper()
	v, err := newActivityEnv(a).ExecuteActivity(a.ListImageMembers, MembersInput{Region: home, ImageID: imageID})
	require.NoError(t, err)
	var out []MemberState
	require.NoError(t, v.Get(&out))
	return out
}

// Sharing adds the missing members and waits for the member job; the recipient accepts with its
// own project; sharing again adds nothing.
func TestShareThenAcceptInTheRecipientProject(t *testing.T) {
	srv, a, imageID := sharedCopy(t)
	share := ShareInput{Region: home, ImageID: imageID, Projects: []string{recipient}}

	v, err := newActivityEnv(a).ExecuteActivity(a.ShareImage, share)
	require.NoError(t, err)
	var res ShareResult
	require.NoError(t, v.Get(&res))
	require.NotEmpty(t, res.JobID)
	assert.Equal(t, []string{recipient}, res.Added)
	_, err = newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: res.JobID, MemberJob: true})
	require.NoError(t, err, "the member job is waited for like a copy job")
	assert.Equal(t, []MemberState{{ProjectID: recipient, Status: "pending"}}, members(t, a, imageID))

	_, err = newActivityEnv(a).ExecuteActivity(a.AcceptShare, AcceptInput{Region: home, ImageID: imageID, ProjectID: recipient})
	require.NoError(t, err)
	assert.Equal(t, []MemberState{{ProjectID: recipient, Status: "accepted"}}, members(t, a, imageID))

	v, err = newActivityEnv(a).ExecuteActivity(a.ShareImage, share)
	require.NoError(t, err)
	var again ShareResult
	require.NoError(t, v.Get(&again))
	assert.Empty(t, again.JobID, "a member already present is not added again")
	assert.Equal(t, 1, calls(srv, imsemu.RouteBatchAddMembers, -1))
}

// A member job whose pair failed fails the share, naming the project, even though IMS calls the
// job a success.
func TestAFailedPairFailsTheShare(t *testing.T) {
	srv, a, imageID := sharedCopy(t)
	srv.SetFaults(imsemu.Faults{MemberFailureRate: 1})
	v, err := newActivityEnv(a).ExecuteActivity(a.ShareImage, ShareInput{Region: home, ImageID: imageID, Projects: []string{recipient}})
	require.NoError(t, err)
	var res ShareResult
	require.NoError(t, v.Get(&res))

	_, err = newActivityEnv(a).ExecuteActivity(a.PollJob, PollJobInput{Region: home, JobID: res.JobID, MemberJob: true})
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrShareFailed, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, app.Message(), recipient)
	var f ShareFailure
	require.NoError(t, app.Details(&f))
	require.Len(t, f.FailedPairs, 1)
	assert.Equal(t, recipient, f.FailedPairs[0].ProjectID)
}

// Only a project the worker's credentials reach can accept: an unknown project is refused by
// IMS's gateway, and the share stays pending.
func TestAcceptInAProjectTheWorkerCannotReachFails(t *testing.T) {
	_, a, imageID := sharedCopy(t)
	_, err := newActivityEnv(a).ExecuteActivity(a.ShareImage, ShareInput{Region: home, ImageID: imageID, Projects: []string{recipient}})
	require.NoError(t, err)
	_, err = newActivityEnv(a).ExecuteActivity(a.AcceptShare, AcceptInput{Region: home, ImageID: imageID, ProjectID: "00000000000000000000000000000abc"})
	app := testkit.AppError(t, err)
	assert.Equal(t, ErrIMSAuth, app.Type())
	assert.True(t, app.NonRetryable())
}
