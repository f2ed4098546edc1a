"""Making data: everything the data-source stages draw numbers with.

Pen trajectories (:mod:`.pen`, real ones from :mod:`.pendigits`), marks beside numbers
(:mod:`.points`, :mod:`.decorations`), real digits composed into numbers (:mod:`.digit_pools`,
:mod:`.composition`, :mod:`.pen_redraw`), paper (:mod:`.paper`), number texts
(:mod:`.number_text`), augmentation (:mod:`.augment`) and the one writer of labelled splits
(:mod:`.splits`).

Augmentation lives here although training uses it too: its training-time half,
:func:`.augment.build_jitter`, redraws an image's geometry the way a data source would, with the
same transforms, so both halves stay one module; training imports it from here, never the reverse.
"""
