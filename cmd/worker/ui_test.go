package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/imscopy/imscopy/imsapi/imsemu"
	"github.com/imscopy/imscopy/internal/testkit"
	"github.com/imscopy/imscopy/internal/testkit/emutest"
	"github.com/imscopy/imscopy/workflows"
	"github.com/imscopy/imscopy/workflows/copyimage"
)

// The dev-mode worker serves the Temporal Web UI on DEV_UI_ADDRESS and says where at start. After a
// copy, the UI's own HTTP API (which the UI's pages call, and which the UI proxies to the embedded
// server) lists it as a completed CopyImage and describes it, and the UI's page for it is served.
func TestDevModeWorkerServesTheWebUI(t *testing.T) {
	emu := emutest.Start(t, imsemu.Config{JobDuration: time.Second})
	devAddr, uiAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	w := startDevWorker(t, emu, devAddr, map[string]string{"DEV_UI_ADDRESS": uiAddr})
	uiURL := "http://" + uiAddr
	require.Contains(t, w.out.String(), "serving the Temporal Web UI", "the worker says where the UI is")
	require.Contains(t, w.out.String(), uiURL)

	c, err := client.Dial(client.Options{HostPort: devAddr, Logger: quietLogger{}})
	require.NoError(t, err)
	defer c.Close()
	in := copyimage.Input{Region: "cn-north-4", SourceImageID: imsemu.SeedImageID, Name: "ui-test-copy", CMKID: imsemu.SeedKMSKeyID}
	id := copyimage.WorkflowID(in)
	run, err := c.ExecuteWorkflow(context.Background(),
		client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, copyimage.CopyImage, in)
	require.NoError(t, err)
	require.NoError(t, run.Get(context.Background(), nil))

	// The list is read from visibility, which the server updates after the workflow closes.
	api := uiURL + "/api/v1/namespaces/default/workflows"
	var list workflowservice.ListWorkflowExecutionsResponse
	var last string // what the UI answered last, for the failure message
	listed := assert.Eventually(t, func() bool {
		list.Reset()
		status, body, err := uiGet(api + "?query=" + url.QueryEscape(`WorkflowId="`+id+`"`))
		if last = fmt.Sprintf("%d %s %v", status, body, err); err != nil || status != http.StatusOK {
			return false
		}
		if err := (temporalproto.CustomJSONUnmarshalOptions{}).Unmarshal([]byte(body), &list); err != nil {
			last += " (not a ListWorkflowExecutionsResponse: " + err.Error() + ")"
			return false
		}
		return len(list.Executions) == 1 && list.Executions[0].Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}, 30*time.Second, 200*time.Millisecond)
	require.True(t, listed, "the UI never listed the finished copy %s; its last answer: %s", id, last)
	found := list.Executions[0]
	assert.Equal(t, id, found.Execution.WorkflowId)
	assert.Equal(t, run.GetRunID(), found.Execution.RunId)
	assert.Equal(t, copyimage.WorkflowName, found.Type.Name)
	assert.Equal(t, workflows.TaskQueue, found.TaskQueue)

	status, body, err := uiGet(api + "/" + url.PathEscape(id))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "the UI's description of the copy: %s", body)
	var described workflowservice.DescribeWorkflowExecutionResponse
	require.NoError(t, temporalproto.CustomJSONUnmarshalOptions{}.Unmarshal([]byte(body), &described), body)
	assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, described.WorkflowExecutionInfo.Status)
	assert.Empty(t, described.PendingActivities)

	// The page a browser opens for the copy: the UI's single-page app, whatever the path.
	status, body, err = uiGet(uiURL + "/namespaces/default/workflows/" + url.PathEscape(id) + "/" + run.GetRunID() + "/history")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "<html")
	assert.Contains(t, body, "/_app/", "the page loads the UI's bundled scripts")
}

// uiGet is a browser's GET: the status and body.
func uiGet(u string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}
