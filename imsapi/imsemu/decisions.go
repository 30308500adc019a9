package imsemu

import "time"

// The emulator's answers where the IMS sources are silent or thin: docs/ims-api.md section 12.
// They live here, in one place, so that one edit changes them when the real cloud disagrees.
const (
	// Unknown or deleted image on copy, cross-region copy, share, show: 404 IMG.0027.
	codeUnknownImage = "IMG.0027"
	// Unknown job ID on either job API: 404 IMG.0023.
	codeUnknownJob = "IMG.0023"
	// A failed copy job carries this error_code and a fail_reason; its image goes to killed.
	codeJobFailed = "IMG.0046"
	// Delete while the image's copy job runs: 400 IMG.0090. Deleting a deleted image: 204.
	codeImageBusy = "IMG.0090"
	// Duplicate names are allowed unless Faults.DuplicateNameError asks for 400 IMG.0009.
	codeDuplicateName = "IMG.0009"

	// Quotas: 50 private images per project and region (IMG.0015), 40 running copy jobs per
	// project (IMG.0060), 5 running cross-region copies per tenant (IMG.0149); all 400.
	defaultPrivateImageQuota          = 50
	defaultRunningJobsPerProject      = 40
	defaultCrossRegionCopiesPerTenant = 5

	// Throttle: a token bucket per API route and project, 200 calls/s as APIG; 429 APIGW.0308.
	defaultThrottlePerSecond = 200

	// The cross-region job type is undocumented.
	jobTypeCrossRegion = "imsCopyImageCrossRegionJob"

	// Job times are RFC 3339 UTC with milliseconds; end_time is "" while the job runs.
	jobTimeFormat = "2006-01-02T15:04:05.000Z"

	// A project in a ShowJob path that is not the caller's is refused like the gateway refuses
	// a token used outside its scope (not documented for IMS): 403 APIGW.0302.
	codeProjectMismatch = "APIGW.0302"

	// A request whose signature is valid but whose X-Project-Id is a project of another account
	// (Config.Accounts) is refused by the gateway before IMS sees it: 403 APIGW.0302, "The IAM or
	// ACL authentication failed". Not documented for IMS. Why this code and not another:
	//   - The credentials are right; only their scope is wrong. That is the ShowJob path's case
	//     above (a project that is not the credentials'), so it gets the same gateway answer, and
	//     imsapi classes a 403 as forbidden, not auth: the worker's report then says the worker
	//     may not act there (so the accept belongs on the recipient account's accept_queue)
	//     rather than "check HUAWEICLOUD_SDK_AK/SK", which would send an operator after a key
	//     that is fine.
	//   - 401 APIGW.0301 stays the answer for a project no account has, as before: IAM cannot
	//     scope a token to it at all, as for a bad signature.
	//   - IMS's own IMG.0106 ("the owner is another tenant") is for member calls on an image of
	//     another tenant, which IMS only sees after the gateway let the caller in; a project of
	//     another account never gets that far.
	// The message never names the access key, so that it may be logged and kept in histories.
	codeOtherAccount = "APIGW.0302"
)

// Job phases. INIT lasts a twentieth of the job (at most 2 s) before RUNNING; member jobs
// take a tenth of the copy duration (at most 2 s) and never fail: they only flip records.
const (
	initShare          = 20
	maxInitPhase       = 2 * time.Second
	memberJobShare     = 10
	maxMemberJobLength = 2 * time.Second
)

// Documented IMS and gateway codes the emulator answers with (docs/ims-api.md sections 2, 3, 6, 7, 8 and 9).
const (
	codeBadFormat          = "IMG.0001" // invalid message format
	codeEmptyBody          = "IMG.0007"
	codeNameEmpty          = "IMG.0013"
	codeNameTooLong        = "IMG.0002"
	codeNameFormat         = "IMG.0003"
	codeDescriptionTooLong = "IMG.0004"
	codeDescriptionFormat  = "IMG.0054"
	codeImageQuota         = "IMG.0015"
	codeImageUnavailable   = "IMG.0046"
	codeTooManyJobs        = "IMG.0060"
	codeKMSKeyMissing      = "IMG.0095"
	codeKMSKeySame         = "IMG.0096"
	codeShareEncrypted     = "IMG.0098"
	codeShareWithSelf      = "IMG.0076"
	codeShareQuota         = "IMG.0088"
	codeNotOwnerDelete     = "IMG.0092"
	codeNotOwner           = "IMG.0106"
	codeSameRegion         = "IMG.0142"
	codeEncryptedCross     = "IMG.0143"
	codeBadProjectName     = "IMG.0145"
	codeCrossTooLarge      = "IMG.0146"
	codeBadRegion          = "IMG.0147"
	codeTooManyCross       = "IMG.0149"
	codeAgency             = "IMG.0151"
	codeBadEnterpriseProj  = "IMG.0155"
	codeSharedNotAccepted  = "IMG.0196"
	codeSharedEncrypted    = "IMG.0197"

	codeNoSuchAPI        = "APIGW.0101"
	codeBadSignature     = "APIGW.0301"
	codeSignatureExpired = "APIGW.0303"
	codeThrottled        = "APIGW.0308"

	jobTypeInRegion     = "imsCopyImageInRegionJob"
	jobTypeAddMembers   = "imsAddImageMembersJob"
	jobTypeUpdateMember = "imsUpdateImageMembersJob"
	jobTypeDelMembers   = "imsDelImageMembersJob"

	maxMembersPerImage = 128      // Huawei's documented sharing limit (OTC says 256)
	maxBodyBytes       = 12 << 20 // AK/SK requests are limited to 12 MB
	maxClockSkew       = 15 * time.Minute
	gib                = int64(1) << 30
)

// crossRegionSizeLimit is the largest image a cross-region copy accepts: 128 GB, or 300 GB in
// four CN regions (DOC 跨Region复制镜像.md).
func crossRegionSizeLimit(sourceRegion string) int64 {
	switch sourceRegion {
	case "cn-south-1", "cn-east-2", "cn-east-3", "cn-north-4":
		return 300 * gib
	}
	return 128 * gib
}
