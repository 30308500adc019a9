package activityapi

import "github.com/imscopy/imscopy/workflows/permit"

// The activities' registered names: the worker registers *activities.Activities, whose method
// names become the activity types in histories, metrics and the starter's view of pending
// activities. Workflows schedule the activities by these constants, and code that reads them (the
// starter, the bench, tests) names them so; activities' names_test.go keeps each equal to its
// method's name.
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
