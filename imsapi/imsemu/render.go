package imsemu

import (
	"strconv"
	"time"
)

// imageJSON is an image as IMS shows it, with the field names of the SDK's ImageInfo and
// GlanceShowImageResponse (docs/ims-api.md section 5.3).
type imageJSON struct {
	Schema              string   `json:"schema"`
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Status              string   `json:"status"`
	Visibility          string   `json:"visibility"`
	Owner               string   `json:"owner"`
	Protected           bool     `json:"protected"`
	ContainerFormat     string   `json:"container_format"`
	DiskFormat          string   `json:"disk_format"`
	MinDisk             int      `json:"min_disk"`
	MinRAM              int      `json:"min_ram"`
	Size                int      `json:"size"`         // "currently unused": IMS shows 0; the real size is __image_size
	VirtualSize         *int     `json:"virtual_size"` // null in IMS's examples
	Checksum            string   `json:"checksum"`
	CreatedAt           string   `json:"created_at"`
	UpdatedAt           string   `json:"updated_at"`
	ActiveAt            string   `json:"active_at"`
	Self                string   `json:"self"`
	File                string   `json:"file"`
	Tags                []string `json:"tags"`
	VirtualEnvType      string   `json:"virtual_env_type"`
	EnterpriseProjectID string   `json:"enterprise_project_id"`
	Architecture        string   `json:"architecture"`
	HwFirmwareType      string   `json:"hw_firmware_type"`
	ImageSourceType     string   `json:"__image_source_type"`
	ImageType           string   `json:"__imagetype"`
	IsRegistered        string   `json:"__isregistered"`
	OSType              string   `json:"__os_type"`
	OSVersion           string   `json:"__os_version"`
	OSBit               string   `json:"__os_bit"`
	Platform            string   `json:"__platform"`
	ImageSize           string   `json:"__image_size"`
	Description         string   `json:"__description"`
	OriginalImageName   string   `json:"__originalimagename"`
	DataOrigin          string   `json:"__data_origin,omitempty"`
	SystemCMKID         string   `json:"__system__cmkid,omitempty"`
	SystemEncrypted     string   `json:"__system_encrypted,omitempty"`
	SupportArm          string   `json:"__support_arm,omitempty"`
	SupportKVM          string   `json:"__support_kvm"`
	LazyLoading         string   `json:"__lazyloading"`
}

// emptyMD5 is the checksum IMS shows for every image (the MD5 of nothing; "currently unused").
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// imageTime is the image timestamp format of IMS's examples: seconds, UTC.
const imageTime = "2006-01-02T15:04:05Z"

// render shows an image as the viewer's project sees it: its own images are "private",
// images shared with it are "shared".
func (img *image) render(viewer string, now time.Time) imageJSON {
	updated, active := img.timestamps(now)
	j := imageJSON{
		Schema: "/v2/schemas/image", ID: img.ID, Name: img.Name, Status: img.status(now),
		Visibility: img.Visibility, Owner: img.Owner, ContainerFormat: "bare", DiskFormat: img.DiskFormat,
		MinDisk: img.MinDisk, MinRAM: img.MinRAM, Checksum: emptyMD5,
		CreatedAt: img.CreatedAt.UTC().Format(imageTime), UpdatedAt: updated.UTC().Format(imageTime),
		Self: "/v2/images/" + img.ID, File: "/v2/images/" + img.ID + "/file", Tags: []string{},
		VirtualEnvType: img.VirtualEnvType, EnterpriseProjectID: img.EnterpriseProjectID,
		Architecture: img.Architecture, HwFirmwareType: "bios", ImageSourceType: "uds", ImageType: "private",
		IsRegistered: "true", OSType: img.OSType, OSVersion: img.OSVersion, OSBit: img.OSBit,
		Platform: img.Platform, ImageSize: strconv.FormatInt(img.SizeBytes, 10), Description: img.Description,
		OriginalImageName: img.OriginalImageName, DataOrigin: img.DataOrigin, SystemCMKID: img.CMKID,
		SupportKVM: "true", LazyLoading: "true",
	}
	if !active.IsZero() {
		j.ActiveAt = active.UTC().Format(imageTime)
	}
	if img.CMKID != "" {
		j.SystemEncrypted = "1"
	}
	if img.Architecture == "arm" {
		j.SupportArm = "true"
	}
	if viewer != img.Owner {
		j.ImageType, j.Visibility = "shared", "shared"
	}
	return j
}
