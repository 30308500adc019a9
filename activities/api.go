package activities

import "github.com/imscopy/imscopy/activities/activityapi"

// The activities' contract is package activityapi, which links no IMS client, so that workflows
// and their clients (the starter) read it without the Huawei Cloud SDK. These aliases keep its
// names at hand for the implementation and its tests; code outside package activities names
// activityapi.

// Activity names.
const (
	NameSubmitCopy       = activityapi.NameSubmitCopy
	NamePollJob          = activityapi.NamePollJob
	NameVerifyImage      = activityapi.NameVerifyImage
	NameCleanupCopy      = activityapi.NameCleanupCopy
	NameCheckPromotion   = activityapi.NameCheckPromotion
	NameFindReencrypted  = activityapi.NameFindReencrypted
	NameShareImage       = activityapi.NameShareImage
	NameListImageMembers = activityapi.NameListImageMembers
	NameAcceptShare      = activityapi.NameAcceptShare
	NameRequestPermit    = activityapi.NameRequestPermit
	NameClosedHolders    = activityapi.NameClosedHolders
)

// Inputs, results and heartbeat details.
type (
	SubmitCopyInput      = activityapi.SubmitCopyInput
	SubmitCopyResult     = activityapi.SubmitCopyResult
	SubmitHeartbeat      = activityapi.SubmitHeartbeat
	SubmitRetry          = activityapi.SubmitRetry
	PollJobInput         = activityapi.PollJobInput
	PollJobResult        = activityapi.PollJobResult
	PollHeartbeat        = activityapi.PollHeartbeat
	VerifyImageInput     = activityapi.VerifyImageInput
	CleanupInput         = activityapi.CleanupInput
	CheckPromotionInput  = activityapi.CheckPromotionInput
	CheckTarget          = activityapi.CheckTarget
	FindReencryptedInput = activityapi.FindReencryptedInput
	FoundImage           = activityapi.FoundImage
	ShareInput           = activityapi.ShareInput
	ShareResult          = activityapi.ShareResult
	MembersInput         = activityapi.MembersInput
	MemberState          = activityapi.MemberState
	AcceptInput          = activityapi.AcceptInput
	PollConfig           = activityapi.PollConfig
)

// Which copy made an adopted image (SubmitCopyResult.AdoptedFrom).
const (
	AdoptedFromThisCopy    = activityapi.AdoptedFromThisCopy
	AdoptedFromEarlierCopy = activityapi.AdoptedFromEarlierCopy
)

// Error types and failure details.
const (
	ErrInvalidInput      = activityapi.ErrInvalidInput
	ErrIMSInvalidRequest = activityapi.ErrIMSInvalidRequest
	ErrIMSNotFound       = activityapi.ErrIMSNotFound
	ErrIMSForbidden      = activityapi.ErrIMSForbidden
	ErrIMSAuth           = activityapi.ErrIMSAuth
	ErrIMSQuota          = activityapi.ErrIMSQuota
	ErrIMSThrottled      = activityapi.ErrIMSThrottled
	ErrIMSBusy           = activityapi.ErrIMSBusy
	ErrIMSTransient      = activityapi.ErrIMSTransient
	ErrIMSUnknown        = activityapi.ErrIMSUnknown
	ErrCopyFailed        = activityapi.ErrCopyFailed
	ErrShareFailed       = activityapi.ErrShareFailed
	ErrVerifyFailed      = activityapi.ErrVerifyFailed
	ErrImageNotReady     = activityapi.ErrImageNotReady
	ErrWorkerStopping    = activityapi.ErrWorkerStopping
	ErrLostCopyUnchecked = activityapi.ErrLostCopyUnchecked
	ReasonLostText       = activityapi.ReasonLostText
)

type (
	IMSFailure    = activityapi.IMSFailure
	CopyFailure   = activityapi.CopyFailure
	SubmitFailure = activityapi.SubmitFailure
	ShareFailure  = activityapi.ShareFailure
)

// NonRetryableErrorTypes is activityapi.NonRetryableErrorTypes.
var NonRetryableErrorTypes = activityapi.NonRetryableErrorTypes

// DefaultPollConfig is activityapi.DefaultPollConfig, for the worker and the bench.
func DefaultPollConfig() PollConfig { return activityapi.DefaultPollConfig() }
