package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/imscopy/imscopy/imsapi"
)

// CheckPromotion refuses, with reads only, the plan rules that need IMS's facts: the source must
// exist and be active; an encrypted source cannot be copied to another region (IMG.0143); a target
// cannot share with the project the image belongs to there (IMG.0076); and every target region
// needs a project ID in the worker's configuration. Each refusal is InvalidInput naming the target.
func (a *Activities) CheckPromotion(ctx context.Context, in CheckPromotionInput) error {
	r, err := a.region(in.SourceRegion)
	if err != nil {
		return err
	}
	src, err := r.GetImage(ctx, in.SourceImageID)
	if err != nil {
		return fromIMS(err)
	}
	if src.Status != "active" {
		return invalidInput(fmt.Errorf("source image %s is %s; only an active image can be promoted", src.ID, src.Status))
	}
	for i, t := range in.Targets {
		tr, err := a.IMS.Region(t.Region)
		if err != nil {
			return invalidInput(fmt.Errorf("targets[%d] (%s): the worker has no project in that region: "+
				"add %s=<project ID> to IMS_PROJECTS: %w", i, t.Region, t.Region, err))
		}
		if t.Region != in.SourceRegion && src.CMKID != "" {
			return invalidInput(fmt.Errorf("targets[%d] (%s): source image %s is encrypted, and IMS cannot copy an encrypted image to another region (IMG.0143); "+
				"promote an unencrypted source, and give the target a cmk_id to encrypt it there", i, t.Region, src.ID))
		}
		if slices.Contains(t.ShareWith, tr.ProjectID()) {
			return invalidInput(&imsapi.ValidationError{Field: fmt.Sprintf("targets[%d] (%s) share_with", i, t.Region), Value: tr.ProjectID(),
				Rule: "is the project the image belongs to there, and IMS cannot share an image with its owner (IMG.0076); remove it"})
		}
	}
	return nil
}

// FindReencrypted looks in the target region for the final image a two-hop copy made: the name,
// the key, the region's project as owner, copied from an image of that region (the intermediate,
// which is deleted once the copy is done, so its lineage cannot be followed to the source), and
// neither killed nor deleted. A rerun of a finished target finds it and copies nothing; one that
// stopped during the second hop finds it still saving and waits for it instead of copying again.
func (a *Activities) FindReencrypted(ctx context.Context, in FindReencryptedInput) (FoundImage, error) {
	r, err := a.region(in.Region)
	if err != nil {
		return FoundImage{}, err
	}
	images, err := r.ListImages(ctx, imsapi.ListFilter{Name: in.Name, Owner: r.ProjectID()})
	if err != nil {
		return FoundImage{}, fromIMS(err)
	}
	var found *imsapi.Image
	for i, img := range images {
		if img.Name != in.Name || img.CMKID != in.CMKID || img.Status == imageKilled || img.Status == imageDeleted ||
			!strings.HasPrefix(img.DataOrigin, "image,"+in.Region+",") {
			continue
		}
		if found == nil || img.CreatedAt < found.CreatedAt || (img.CreatedAt == found.CreatedAt && img.ID < found.ID) {
			found = &images[i]
		}
	}
	if found == nil {
		return FoundImage{}, nil
	}
	if found.Status != "active" && in.IntermediateName != "" {
		// Still being made: only from this target's intermediate is it this target's (its
		// intermediate is then deleted once it is done, so it must be the right one).
		src, err := r.GetImage(ctx, found.OriginalImageName)
		switch {
		case imsapi.ClassOf(err) == imsapi.ClassNotFound || errors.Is(err, imsapi.ErrNotListed):
			return FoundImage{}, nil
		case err != nil:
			return FoundImage{}, fromIMS(err)
		case src.Name != in.IntermediateName || src.OriginalImageName != in.SourceImageID:
			activity.GetLogger(ctx).Info("An image of the final name is being made from another source; not this target's",
				"ImageID", found.ID, "From", src.ID)
			return FoundImage{}, nil
		}
	}
	return FoundImage{ID: found.ID, Status: found.Status, SourceImageID: found.OriginalImageName}, nil
}
