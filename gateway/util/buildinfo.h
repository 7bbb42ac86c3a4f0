/*
 * What the gateway was built from: the git commit, written into
 * buildinfo.c by meson's vcs_tag at build time ("unknown" when built
 * outside a git checkout).  /metrics shows it in postern_build_info.
 */
#ifndef POSTERN_BUILDINFO_H
#define POSTERN_BUILDINFO_H

extern const char	buildinfo_commit[];

#endif
