package imsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	"github.com/imscopy/imscopy/imsapi"
)

// GetImage reads one image with GET /v2/cloudimages?id= (as Terraform does): the IMS extension list
// carries every attribute imscopy verifies, including lineage and the KMS key. An empty list means
// the image does not exist, is deleted or is not listed yet: *Error of ClassNotFound whose Err is
// ErrNotListed.
func (r *RegionClient) GetImage(ctx context.Context, id string) (imsapi.Image, error) {
	const op = "GetImage"
	if err := imsapi.ValidateUUID("image_id", id); err != nil {
		return imsapi.Image{}, err
	}
	images, requestID, err := r.listImages(ctx, op, imsapi.ListFilter{ID: id})
	if err != nil {
		return imsapi.Image{}, err
	}
	for _, img := range images {
		if img.ID == id {
			return img, nil
		}
	}
	return imsapi.Image{}, &imsapi.Error{
		Op:     op,
		Status: 200,
		Class:  imsapi.ClassNotFound,
		Message: fmt.Sprintf("image %s is not in the image list of region %s for project %s: it does not exist, "+
			"was deleted, or is too new to be listed yet", id, r.name, r.projectID),
		RequestID: requestID,
		Err:       imsapi.ErrNotListed,
	}
}

// ListImages returns one page of GET /v2/cloudimages; page on with ListFilter.Marker set to the last
// image's ID.
func (r *RegionClient) ListImages(ctx context.Context, f imsapi.ListFilter) ([]imsapi.Image, error) {
	const op = "ListImages"
	if err := f.Validate(); err != nil {
		return nil, err
	}
	images, _, err := r.listImages(ctx, op, f)
	return images, err
}

func (r *RegionClient) listImages(ctx context.Context, op string, f imsapi.ListFilter) ([]imsapi.Image, string, error) {
	req, err := listRequest(f)
	if err != nil {
		return nil, "", &imsapi.Error{Op: op, Class: imsapi.ClassUnknown, Message: err.Error(), Err: err}
	}
	return callWithID(ctx, r, op, func(c *ims.ImsClient) ([]imsapi.Image, error) {
		resp, err := c.ListImages(req)
		if err != nil {
			return nil, err
		}
		images := make([]imsapi.Image, 0, len(deref(resp.Images)))
		for _, info := range deref(resp.Images) {
			images = append(images, imageFromInfo(info))
		}
		return images, nil
	})
}

// listRequest maps the filter to the SDK's request. The SDK's enum fields have unexported values that
// only its JSON decoder can set; the values were validated against the same enums before.
func listRequest(f imsapi.ListFilter) (*model.ListImagesRequest, error) {
	req := &model.ListImagesRequest{
		Id:     optional(f.ID),
		Name:   optional(f.Name),
		Owner:  optional(f.Owner),
		Marker: optional(f.Marker),
	}
	if f.Limit > 0 {
		limit := int32(min(f.Limit, 1<<31-1))
		req.Limit = &limit
	}
	if f.Status != "" {
		req.Status = new(model.ListImagesRequestStatus)
		if err := json.Unmarshal([]byte(`"`+f.Status+`"`), req.Status); err != nil {
			return nil, fmt.Errorf("status %q: %w", f.Status, err)
		}
	}
	if f.ImageType != "" {
		req.Imagetype = new(model.ListImagesRequestImagetype)
		if err := json.Unmarshal([]byte(`"`+f.ImageType+`"`), req.Imagetype); err != nil {
			return nil, fmt.Errorf("__imagetype %q: %w", f.ImageType, err)
		}
	}
	return req, nil
}

func imageFromInfo(info model.ImageInfo) imsapi.Image {
	img := imsapi.Image{
		ID:                  info.Id,
		Name:                info.Name,
		Status:              info.Status.Value(),
		Owner:               info.Owner,
		Visibility:          info.Visibility.Value(),
		ImageType:           info.Imagetype.Value(),
		OriginalImageName:   deref(info.Originalimagename),
		DataOrigin:          deref(info.DataOrigin),
		CMKID:               deref(info.SystemCmkid),
		MinDisk:             int(info.MinDisk),
		MinRAM:              int(info.MinRam),
		OSType:              info.OsType.Value(),
		OSVersion:           deref(info.OsVersion),
		ImageSize:           info.ImageSize,
		Description:         deref(info.Description),
		EnterpriseProjectID: deref(info.EnterpriseProjectId),
		CreatedAt:           info.CreatedAt,
		UpdatedAt:           info.UpdatedAt,
		// The SDK's ImageInfo has no architecture field; IMS marks ARM images with __support_arm.
		Architecture: "x86",
	}
	if info.OsBit != nil {
		img.OSBit = info.OsBit.Value()
	}
	if info.Platform != nil {
		img.Platform = info.Platform.Value()
	}
	if info.SupportArm != nil && info.SupportArm.Value() == "true" {
		img.Architecture = "arm"
	}
	return img
}

// DeleteImage deletes an image (DELETE /v2/images/{image_id}). An image that is already gone counts
// as deleted, so compensation can repeat it. While the image's copy job runs IMS answers IMG.0090:
// ClassBusy, retry after the job ends.
func (r *RegionClient) DeleteImage(ctx context.Context, id string) error {
	const op = "DeleteImage"
	if err := imsapi.ValidateUUID("image_id", id); err != nil {
		return err
	}
	_, err := call(ctx, r, op, func(c *ims.ImsClient) (*model.GlanceDeleteImageResponse, error) {
		return c.GlanceDeleteImage(&model.GlanceDeleteImageRequest{ImageId: id})
	})
	var e *imsapi.Error
	// A gateway 404 (APIGW.*) means the route is wrong, not that the image is gone.
	if errors.As(err, &e) && e.Status == 404 && !strings.HasPrefix(e.Code, "APIGW.") {
		return nil
	}
	return err
}
