package activities

import "github.com/imscopy/imscopy/workflows/permit"

// The activities' registered names: the worker registers *Activities, whose method names become
// the activity types in histories, metrics and the starter's view of pending activities. Code that
// reads those (tests, the starter, the bench) names them by these constants; names_test.go keeps
// each equal to its method's name.
const (
	NameSubmitCopy       = "SubmitCopy"
	NamePollJob          = "PollJob"
	NameVerifyImage      = "VerifyImage"
	NameCleanupCopy      = "CleanupCopy"
	NameCheckPromotion   = "CheckPromotion"
	NameFindReencrypted  = "FindReencrypted"
	NameShareImage       = "ShareImage"
	NameListImageMembers = "ListImageMembers"
	NameAcceptShare      = "AcceptShare"
	NameRequestPermit    = permit.RequestActivity
	NameClosedHolders    = permit.ClosedHoldersActivity
)
