package imsemu

type copyInRegionBody struct {
	Name                *string `json:"name"`
	Description         string  `json:"description"`
	CMKID               string  `json:"cmk_id"`
	EnterpriseProjectID string  `json:"enterprise_project_id"`
}

type crossRegionBody struct {
	Name        *string `json:"name"`
	Description string  `json:"description"`
	Region      string  `json:"region"`
	ProjectName string  `json:"project_name"`
	AgencyName  string  `json:"agency_name"`
	VaultID     string  `json:"vault_id"`
}

type jobIDResponse struct {
	JobID string `json:"job_id"`
}

// copySpec is what a new copy needs besides its source.
type copySpec struct {
	jobType, name, description, cmkID, enterpriseProject string
	targetRegion, targetOwner                            string
}

// copyInRegion is POST /v1/cloudimages/{image_id}/copy (docs/ims-api.md section 2).
func (e *Emulator) copyInRegion(c *call) reply {
	id := c.params.get("image_id")
	var b copyInRegionBody
	if rep, ok := firstFailure(
		func() (reply, bool) { return checkImageID(id) },
		func() (reply, bool) { return decodeBody(c.body, &b) },
		func() (reply, bool) { return checkName(deref(b.Name)) },
		func() (reply, bool) { return checkDescription(b.Description) },
		func() (reply, bool) { return checkEnterpriseProject(b.EnterpriseProjectID) },
	); !ok {
		return rep
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	src, rep, ok := e.copySource(c, id)
	if !ok {
		return rep
	}
	if b.CMKID != "" {
		if !c.region.kmsKeys[b.CMKID] {
			return badRequest(codeKMSKeyMissing, "KMS key %s does not exist in region %s; use a key of this region", b.CMKID, c.region.Name)
		}
		if b.CMKID == src.CMKID {
			return badRequest(codeKMSKeySame, "the image is already encrypted with KMS key %s; choose another key or none", b.CMKID)
		}
	}
	if rep, ok := e.checkCopyLimits(c, c.region.Name, c.project, *b.Name); !ok {
		return rep
	}
	jobID := e.startCopy(c, src, copySpec{jobType: jobTypeInRegion, name: *b.Name, description: b.Description,
		cmkID: b.CMKID, enterpriseProject: b.EnterpriseProjectID, targetRegion: c.region.Name, targetOwner: c.project})
	return okReply(jobIDResponse{jobID})
}

// copyCrossRegion is POST /v1/cloudimages/{image_id}/cross_region_copy (docs/ims-api.md section 3):
// the job lives here, in the source region; the image in the target region.
func (e *Emulator) copyCrossRegion(c *call) reply {
	id := c.params.get("image_id")
	var b crossRegionBody
	if rep, ok := firstFailure(
		func() (reply, bool) { return checkImageID(id) },
		func() (reply, bool) { return decodeBody(c.body, &b) },
		func() (reply, bool) { return checkName(deref(b.Name)) },
		func() (reply, bool) { return checkDescription(b.Description) },
	); !ok {
		return rep
	}
	target, ok := e.regions[b.Region]
	targetOwner := c.account.home[b.Region] // the caller's account's project there
	switch {
	case b.Region == c.region.Name:
		return badRequest(codeSameRegion, "the target region %s is the source region; use the in-region copy API", b.Region)
	case !ok:
		return badRequest(codeBadRegion, "target region %q is not a region of this cloud (known: %v)", b.Region, e.regionNames())
	case b.ProjectName != target.Name:
		return badRequest(codeBadProjectName, "project_name %q is not a project of region %s; use the region's default project name %q", b.ProjectName, target.Name, target.Name)
	case targetOwner == "":
		return badRequest(codeBadProjectName, "project_name %q: this account has no project in region %s", b.ProjectName, target.Name)
	case b.AgencyName == "":
		return badRequest(codeAgency, "agency_name is empty; name an IAM agency with IMS rights in both regions")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	src, rep, ok := e.copySource(c, id)
	if !ok {
		return rep
	}
	if src.CMKID != "" {
		return badRequest(codeEncryptedCross, "image %s is encrypted; encrypted images cannot be copied across regions", src.ID)
	}
	if limit := crossRegionSizeLimit(c.region.Name); src.SizeBytes > limit {
		return badRequest(codeCrossTooLarge, "image %s is %d bytes; cross-region copies from %s are limited to %d GB", src.ID, src.SizeBytes, c.region.Name, limit/gib)
	}
	if atJobLimit(e.runningCross[c.account], e.cfg.Limits.CrossRegionCopiesPerTenant, c.now) {
		return badRequest(codeTooManyCross, "flow control: %d cross-region copies are already running for this tenant; wait for one to finish", e.cfg.Limits.CrossRegionCopiesPerTenant)
	}
	if rep, ok := e.checkCopyLimits(c, target.Name, targetOwner, *b.Name); !ok {
		return rep
	}
	jobID := e.startCopy(c, src, copySpec{jobType: jobTypeCrossRegion, name: *b.Name, description: b.Description,
		enterpriseProject: "0", targetRegion: target.Name, targetOwner: targetOwner})
	return okReply(jobIDResponse{jobID})
}

// copySource finds the source image: visible to the caller, in this region, active. The
// caller holds e.mu.
func (e *Emulator) copySource(c *call, id string) (*image, reply, bool) {
	src := e.images[id]
	if src == nil || src.Region != c.region.Name || !src.DeletedAt.IsZero() || !e.visibleTo(src, c.project) {
		return nil, notFoundImage(id), false
	}
	if src.Owner != c.project {
		if m := e.members[src.ID][c.project]; m == nil || m.Status != memberAccepted {
			return nil, badRequest(codeSharedNotAccepted, "image %s is shared with this project but not accepted; accept it first", id), false
		}
		if src.CMKID != "" {
			return nil, badRequest(codeSharedEncrypted, "image %s is shared and encrypted with KMS; it cannot be copied", id), false
		}
	}
	if st := src.status(c.now); st != statusActive {
		return nil, badRequest(codeImageUnavailable, "image %s is %s; only active images can be copied", id, st), false
	}
	return src, reply{}, true
}

// checkCopyLimits applies the job limit of the caller's project and the image quota and
// duplicate-name knob of the target project. The caller holds e.mu.
func (e *Emulator) checkCopyLimits(c *call, targetRegion, targetOwner, name string) (reply, bool) {
	limits := e.cfg.Limits
	if atJobLimit(e.running[c.project], limits.RunningJobsPerProject, c.now) {
		return badRequest(codeTooManyJobs, "flow control: %d image jobs are already running for this project; wait for one to finish", limits.RunningJobsPerProject), false
	}
	k := ownerKey{targetRegion, targetOwner}
	if reached(e.liveImages[k], limits.PrivateImagesPerProject) {
		return badRequest(codeImageQuota, "the private image quota (%d per region) of project %s in %s is used up; delete images or ask for a higher quota", limits.PrivateImagesPerProject, targetOwner, targetRegion), false
	}
	if e.currentFaults().DuplicateNameError {
		for _, img := range e.byName[k][name] {
			if img.status(c.now) != statusKilled {
				return badRequest(codeDuplicateName, "an image named %q already exists (%s); choose another name", name, img.ID), false
			}
		}
	}
	return reply{}, true
}

// startCopy creates the job (in the caller's region) and its target image. The caller holds e.mu.
func (e *Emulator) startCopy(c *call, src *image, s copySpec) string {
	faults := e.currentFaults()
	duration, progressSeed := e.newJobShape(s.name)
	j := &job{
		ID: e.newJobID(), Type: s.jobType, Region: c.region.Name, Project: c.project, SubJobID: e.ids.hex32(),
		ImageID: e.newImageID(), ImageName: s.name, SourceImageID: src.ID, Begin: c.now,
		Duration: duration, ProgressSeed: progressSeed,
	}
	if s.targetRegion != c.region.Name {
		j.TargetRegion = s.targetRegion
	}
	if e.jobRand.chance(faults.JobFailureRate) {
		j.FailAt = 0.1 + 0.8*e.jobRand.float64() // fail somewhere in the middle, as a real copy would
	}
	ep := s.enterpriseProject
	if ep == "" {
		ep = "0"
	}
	e.addJob(j)
	e.addImage(&image{
		ID: j.ImageID, Region: s.targetRegion, Owner: s.targetOwner, Name: s.name, Description: s.description,
		Visibility: "private", OSType: src.OSType, OSVersion: src.OSVersion, OSBit: src.OSBit, Platform: src.Platform,
		Architecture: src.Architecture, DiskFormat: src.DiskFormat, VirtualEnvType: src.VirtualEnvType,
		MinDisk: src.MinDisk, MinRAM: src.MinRAM, SizeBytes: src.SizeBytes, CMKID: s.cmkID,
		OriginalImageName: src.ID, DataOrigin: "image," + src.Region + "," + src.ID, EnterpriseProjectID: ep,
		CreatedAt: c.now, VisibleAt: c.now.Add(faults.VisibilityDelay), JobID: j.ID,
	})
	e.changed()
	return j.ID
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
