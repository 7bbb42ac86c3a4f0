/*
 * branding.logo_file: a logo the gateway serves itself from
 * /.postern/static/logo (PNG, WebP or SVG, at most CONFIG_LOGO_MAX bytes,
 * read once at load, its type told by its first bytes, never by its name).
 */
#ifndef POSTERN_CONFIGLOGO_H
#define POSTERN_CONFIGLOGO_H

#include <yaml.h>

struct yconf;

#define CONFIG_LOGO_MAX		(256 * 1024)

/* The yconf handler of branding.logo_file (<obj>: struct config). */
void	config_on_logo_file(struct yconf *, yaml_node_t *, void *obj);

#endif
