package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/imscopy/imscopy/imsapi"
)

// VerifyImage checks that the new image is the copy that was asked for: it exists, is active,
// has the requested name, the source's lineage, the requested KMS key (or none), and the source's
// disk size, OS and architecture. Not listed or not active yet is retryable; any mismatch is a
// non-retryable VerifyFailed that names every difference, so the user sees them all at once.
func (a *Activities) VerifyImage(ctx context.Context, in VerifyImageInput) error {
	for _, f := range [][2]string{{"image_id", in.ImageID}, {"source_image_id", in.SourceImageID}} {
		if err := imsapi.ValidateUUID(f[0], f[1]); err != nil {
			return invalidInput(err)
		}
	}
	r, err := a.region(in.Region)
	if err != nil {
		return err
	}
	img, err := r.GetImage(ctx, in.ImageID)
	switch {
	case errors.Is(err, imsapi.ErrNotListed):
		// The list is eventually consistent and a copy can end before its image is listed; the
		// job named this image, so it exists. Not found here would make the workflow delete it.
		return imageNotReady(in.ImageID, "is not in IMS's image list yet")
	case err != nil:
		return fromIMS(err)
	}
	switch img.Status {
	case "active":
	case "queued", "saving":
		return imageNotReady(img.ID, fmt.Sprintf("is %s, not active yet", img.Status))
	default:
		return verifyFailed(img.ID, []string{fmt.Sprintf("status is %q, want \"active\"", img.Status)})
	}
	sr, err := a.imageRegion(in.Region, in.SourceRegion)
	if err != nil {
		return err
	}
	src, err := sr.GetImage(ctx, in.SourceImageID)
	if err != nil {
		return fromIMS(err)
	}
	if m := mismatches(img, src, in, sr.Name()); len(m) > 0 {
		return verifyFailed(img.ID, m)
	}
	return nil
}

// mismatches lists every way img differs from a copy of src (in sourceRegion) made as in asked.
func mismatches(img, src imsapi.Image, in VerifyImageInput, sourceRegion string) []string {
	var out []string
	show := func(v any) string {
		if v == "" {
			return "none"
		}
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	differ := func(what string, got, want any) {
		if got != want {
			out = append(out, fmt.Sprintf("%s is %s, want %s", what, show(got), show(want)))
		}
	}
	differ("name", img.Name, in.Name)
	if !isCopyOf(img, sourceRegion, in.SourceImageID) {
		out = append(out, fmt.Sprintf("lineage (__originalimagename %q, __data_origin %q) does not name source %s",
			img.OriginalImageName, img.DataOrigin, in.SourceImageID))
	}
	differ("KMS key (__system__cmkid)", img.CMKID, in.CMKID)
	differ("min_disk", img.MinDisk, src.MinDisk)
	differ("__os_type", img.OSType, src.OSType)
	differ("__os_version", img.OSVersion, src.OSVersion)
	differ("__platform", img.Platform, src.Platform)
	differ("__os_bit", img.OSBit, src.OSBit)
	differ("architecture", img.Architecture, src.Architecture)
	return out
}
