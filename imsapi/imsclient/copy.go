package imsclient

import (
	"context"

	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	"github.com/imscopy/imscopy/imsapi"
)

// CopyInRegion starts an in-region copy (POST /v1/cloudimages/{image_id}/copy) and returns its job ID.
// IMS has no idempotency token: a call that fails with ClassTransient may still have created the
// copy, so callers look for it before calling again (docs/copy.md, How a copy runs, step 2).
func (r *RegionClient) CopyInRegion(ctx context.Context, req imsapi.CopyRequest) (string, error) {
	const op = "CopyInRegion"
	if err := req.Validate(); err != nil {
		return "", err
	}
	body := &model.CopyImageInRegionRequestBody{
		Name:                req.Name,
		Description:         optional(req.Description),
		CmkId:               optional(req.CMKID),
		EnterpriseProjectId: optional(req.EnterpriseProjectID),
	}
	resp, requestID, err := callWithID(ctx, r, op, func(c *ims.ImsClient) (*model.CopyImageInRegionResponse, error) {
		return c.CopyImageInRegion(&model.CopyImageInRegionRequest{ImageId: req.SourceImageID, Body: body})
	})
	if err != nil {
		return "", err
	}
	return jobIDOf(op, resp.JobId, resp.HttpStatusCode, requestID)
}

// CopyCrossRegion starts a copy to another region (POST /v1/cloudimages/{image_id}/cross_region_copy)
// and returns its job ID. The job lives in this (the source) region, the new image in TargetRegion.
func (r *RegionClient) CopyCrossRegion(ctx context.Context, req imsapi.CrossRegionCopyRequest) (string, error) {
	const op = "CopyCrossRegion"
	if err := req.Validate(); err != nil {
		return "", err
	}
	if req.TargetRegion == r.name {
		// IMS would answer IMG.0142; say it before sending anything.
		return "", imsapi.Invalid("region", req.TargetRegion, "must differ from the source region; use CopyInRegion")
	}
	if req.VaultID != "" {
		if err := imsapi.ValidateUUID("vault_id", req.VaultID); err != nil {
			return "", err
		}
	}
	projectName := req.TargetProjectName
	if projectName == "" {
		projectName = req.TargetRegion
	}
	body := &model.CopyImageCrossRegionRequestBody{
		Name:        req.Name,
		Description: optional(req.Description),
		Region:      req.TargetRegion,
		ProjectName: projectName,
		AgencyName:  req.AgencyName,
		VaultId:     optional(req.VaultID),
	}
	resp, requestID, err := callWithID(ctx, r, op, func(c *ims.ImsClient) (*model.CopyImageCrossRegionResponse, error) {
		return c.CopyImageCrossRegion(&model.CopyImageCrossRegionRequest{ImageId: req.SourceImageID, Body: body})
	})
	if err != nil {
		return "", err
	}
	return jobIDOf(op, resp.JobId, resp.HttpStatusCode, requestID)
}

// jobIDOf insists on a job ID: a success without one leaves nothing to wait for, and treating it as
// success would lose track of whatever IMS started.
func jobIDOf(op string, jobID *string, status int, requestID string) (string, error) {
	if id := deref(jobID); id != "" {
		return id, nil
	}
	return "", &imsapi.Error{Op: op, Status: status, Class: imsapi.ClassUnknown, Message: "IMS answered without a job_id", RequestID: requestID}
}
