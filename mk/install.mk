# make install, make uninstall: the tracer and its manual page.
#
#   make install                               /usr/local/bin/sigtrace, /usr/local/share/man/man1/sigtrace.1
#   make install PREFIX=/usr DESTDIR=/tmp/pkg  the same under /tmp/pkg/usr (for packaging)
#   make uninstall                             removes them again (give the same PREFIX and DESTDIR)
#
# A plain user can run the installed tracer with --netns; capturing outside a
# namespace of its own needs root or CAP_NET_RAW, as with tcpdump.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MAN1DIR  = $(PREFIX)/share/man/man1

.PHONY: install uninstall

install: sigtrace ## install build/sigtrace and its manual page under PREFIX (default /usr/local; DESTDIR to stage)
	install -D -m 755 $(TRACER) $(DESTDIR)$(BINDIR)/sigtrace
	install -D -m 644 docs/sigtrace.1 $(DESTDIR)$(MAN1DIR)/sigtrace.1

uninstall: ## remove what make install installed (give the same PREFIX and DESTDIR)
	rm -f $(DESTDIR)$(BINDIR)/sigtrace $(DESTDIR)$(MAN1DIR)/sigtrace.1
