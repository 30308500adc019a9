package imsclient

import (
	"context"
	"encoding/json"

	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	"github.com/imscopy/imscopy/imsapi"
)

// AddMembers shares images with projects (POST /v1/cloudimages/members) and returns the job ID. The
// job can end in SUCCESS with some pairs failed: read Job.MemberResults.
func (r *RegionClient) AddMembers(ctx context.Context, imageIDs, projectIDs []string) (string, error) {
	const op = "AddMembers"
	if err := imsapi.ValidateImageIDs(imageIDs); err != nil {
		return "", err
	}
	if err := imsapi.ValidateProjectIDs(projectIDs); err != nil {
		return "", err
	}
	body := &model.BatchAddMembersRequestBody{Images: imageIDs, Projects: projectIDs}
	resp, requestID, err := callWithID(ctx, r, op, func(c *ims.ImsClient) (*model.BatchAddMembersResponse, error) {
		return c.BatchAddMembers(&model.BatchAddMembersRequest{Body: body})
	})
	if err != nil {
		return "", err
	}
	return jobIDOf(op, resp.JobId, resp.HttpStatusCode, requestID)
}

// UpdateMemberStatus accepts or rejects shared images on behalf of projectID, the recipient
// (PUT /v1/cloudimages/members); call it on the recipient's region client. Returns the job ID.
func (r *RegionClient) UpdateMemberStatus(ctx context.Context, imageIDs []string, projectID string, status imsapi.MemberStatus) (string, error) {
	const op = "UpdateMemberStatus"
	if err := imsapi.ValidateImageIDs(imageIDs); err != nil {
		return "", err
	}
	if err := imsapi.ValidateProjectID("project_id", projectID); err != nil {
		return "", err
	}
	if err := imsapi.ValidateDecision(status); err != nil {
		return "", err
	}
	var sdkStatus model.BatchUpdateMembersRequestBodyStatus
	// The SDK's enum value is unexported; its JSON decoder is the only way in. status is validated.
	if err := json.Unmarshal([]byte(`"`+string(status)+`"`), &sdkStatus); err != nil {
		return "", &imsapi.Error{Op: op, Class: imsapi.ClassUnknown, Message: "status: " + err.Error(), Err: err}
	}
	body := &model.BatchUpdateMembersRequestBody{Images: imageIDs, ProjectId: projectID, Status: sdkStatus}
	resp, requestID, err := callWithID(ctx, r, op, func(c *ims.ImsClient) (*model.BatchUpdateMembersResponse, error) {
		return c.BatchUpdateMembers(&model.BatchUpdateMembersRequest{Body: body})
	})
	if err != nil {
		return "", err
	}
	return jobIDOf(op, resp.JobId, resp.HttpStatusCode, requestID)
}

// ListMembers lists the projects an image is shared with (GET /v2/images/{image_id}/members),
// following page_info.next_marker when IMS pages the answer.
func (r *RegionClient) ListMembers(ctx context.Context, imageID string) ([]imsapi.Member, error) {
	const op = "ListMembers"
	if err := imsapi.ValidateUUID("image_id", imageID); err != nil {
		return nil, err
	}
	var members []imsapi.Member
	var marker *string
	// Bounded: IMS allows at most MaxMembers members per image, so a server that keeps returning a
	// marker must not keep imscopy looping.
	for page := 0; page <= imsapi.MaxMembers; page++ {
		resp, err := call(ctx, r, op, func(c *ims.ImsClient) (*model.GlanceListImageMembersResponse, error) {
			return c.GlanceListImageMembers(&model.GlanceListImageMembersRequest{ImageId: imageID, Marker: marker})
		})
		if err != nil {
			return nil, err
		}
		for _, m := range deref(resp.Members) {
			members = append(members, imsapi.Member{
				ImageID:   m.ImageId,
				MemberID:  m.MemberId,
				Status:    imsapi.MemberStatus(m.Status),
				CreatedAt: m.CreatedAt,
				UpdatedAt: m.UpdatedAt,
			})
		}
		if resp.PageInfo == nil || resp.PageInfo.NextMarker == "" || len(deref(resp.Members)) == 0 {
			break
		}
		next := resp.PageInfo.NextMarker
		marker = &next
	}
	return members, nil
}
