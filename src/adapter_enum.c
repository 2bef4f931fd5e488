/* SPDX-License-Identifier: MIT */
/* Finding adapters: enumeration, and removal of unused leftovers. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "adapter_id.h"
#include "log.h"
#include "nl_link.h"

/* Links of the calling thread's namespace that carry our ifalias. */
static int list_wintun_links(struct wt_nl *nl, struct wt_nl_link **links, size_t *count)
{
	size_t n = 0;
	int ret;

	ret = wt_nl_open(nl, -1);
	if (ret)
		return ret;
	ret = wt_nl_link_list(nl, links, count);
	if (ret) {
		wt_nl_log_error(nl, ret, "list", "network devices");
		wt_nl_close(nl);
		return ret;
	}
	for (size_t i = 0; i < *count; i++)
		if (!strcmp((*links)[i].kind, "tun") && wt_alias_is_wintun((*links)[i].alias))
			(*links)[n++] = (*links)[i];
	*count = n;
	return 0;
}

static bool type_matches(const struct wt_nl_link *l, const char *type)
{
	char t[WINTUN_MAX_TUNNEL_TYPE + 1];
	WINTUN_GUID g;

	return !type || (wt_alias_parse(l->alias, t, &g) == 0 && !strcmp(t, type));
}

static int enum_adapters(const char *type, WINTUN_ENUM_CALLBACK cb, intptr_t param)
{
	struct wt_nl_link *links = NULL;
	struct wintun_adapter *a;
	size_t count = 0;
	struct wt_nl nl;
	bool go = true;
	int ret;

	ret = list_wintun_links(&nl, &links, &count);
	if (ret)
		return ret;
	wt_nl_close(&nl);
	for (size_t i = 0; i < count && go; i++) {
		if (!type_matches(&links[i], type))
			continue;
		/* One that vanished or changed since the dump is skipped. */
		if (wt_adapter_open(links[i].name, &a))
			continue;
		go = cb(a, param);
		wt_adapter_free(a);
	}
	free(links);
	return 0;
}

WINTUN_API bool WintunEnumAdapters(const char *TunnelType, WINTUN_ENUM_CALLBACK Callback,
				   intptr_t Param)
{
	int ret;

	if (!Callback) {
		wt_err("WintunEnumAdapters: Callback is NULL");
		return wt_fail_bool(-EINVAL);
	}
	ret = enum_adapters(TunnelType, Callback, Param);

	return ret ? wt_fail_bool(ret) : true;
}

/* Does the fdinfo file at @path describe a TUN fd of device @name?  The tun
 * driver prints "iff:\t<name>" there, also for detached queues. */
static bool fdinfo_is_tun_of(const char *path, const char *name)
{
	char line[128];
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strncmp(line, "iff:\t", 5) && !strcmp(line + 5, name);
	}
	fclose(f);
	return found;
}

static bool pid_uses(const char *pid, const char *name)
{
	char path[600]; /* "/proc/<pid>/fdinfo/<fd>" with room for any d_name */
	struct dirent *fd;
	bool used = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return false; /* gone, or not ours to look at */
	while (!used && (fd = readdir(d))) {
		if (fd->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd->d_name);
		used = fdinfo_is_tun_of(path, name);
	}
	closedir(d);
	return used;
}

/* True if some process holds a TUN fd of @name.  Names are per namespace, so
 * a namesake elsewhere also counts: when unsure, keep the device. */
static bool device_in_use(const char *name)
{
	struct dirent *p;
	bool used = false;
	DIR *d = opendir("/proc");

	if (!d)
		return true;
	while (!used && (p = readdir(d)))
		if (isdigit((unsigned char)p->d_name[0]))
			used = pid_uses(p->d_name, name);
	closedir(d);
	return used;
}

static int delete_leftovers(void)
{
	struct wt_nl_link *links = NULL;
	size_t count = 0;
	struct wt_nl nl;
	int ret, err = 0;

	ret = list_wintun_links(&nl, &links, &count);
	if (ret)
		return ret;
	for (size_t i = 0; i < count; i++) {
		if (device_in_use(links[i].name)) {
			wt_info("adapter %s is in use; not deleted", links[i].name);
			continue;
		}
		ret = wt_nl_link_delete(&nl, links[i].ifindex);
		if (ret && ret != -ENODEV) {
			wt_nl_log_error(&nl, ret, "delete leftover adapter", links[i].name);
			if (!err)
				err = ret;
		} else if (!ret) {
			wt_info("deleted leftover adapter %s", links[i].name);
		}
	}
	wt_nl_close(&nl);
	free(links);
	return err;
}

WINTUN_API bool WintunDeleteDriver(void)
{
	int ret = delete_leftovers();

	return ret ? wt_fail_bool(ret) : true;
}
