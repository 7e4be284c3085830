-- busted's helper (see .busted): runs once, before the first spec.
require('spec.support.netns').enter()
