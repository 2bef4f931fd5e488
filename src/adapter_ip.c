/* SPDX-License-Identifier: MIT */
/* Public IP configuration of an adapter: addresses and routes, IPv4 and IPv6. */
#include <errno.h>
#include <stdio.h>

#include "adapter.h"
#include "log.h"
#include "nl_addr.h"

static int parse_arg(const char *fn, const char *what, const char *text, struct wt_cidr *out)
{
	if (!text) {
		wt_err("%s: %s is NULL", fn, what);
		return -EINVAL;
	}
	if (wt_cidr_parse(text, out)) {
		wt_err("%s: %s \"%s\" is not an IPv4 or IPv6 address with optional /prefix", fn,
		       what, text);
		return -EINVAL;
	}
	return 0;
}

static int change_address(struct wintun_adapter *a, const char *text, bool add)
{
	const char *fn = add ? "WintunAddAdapterAddress" : "WintunRemoveAdapterAddress";
	struct wt_adapter_nl c;
	struct wt_cidr addr;
	char op[96];
	int ret;

	ret = wt_adapter_nl_begin(a, fn, &c);
	if (ret)
		return ret;
	ret = parse_arg(fn, "address", text, &addr);
	if (ret) {
		wt_nl_close(&c.nl);
		return ret;
	}
	snprintf(op, sizeof(op), "%s address %s %s", add ? "add" : "remove", text,
		 add ? "to" : "from");
	return wt_adapter_nl_end(&c, wt_nl_addr_change(&c.nl, c.ifindex, &addr, add), op);
}

WINTUN_API bool WintunAddAdapterAddress(WINTUN_ADAPTER_HANDLE Adapter,
					const char *AddressWithPrefix)
{
	int ret = change_address(Adapter, AddressWithPrefix, true);

	return ret ? wt_fail_bool(ret) : true;
}

WINTUN_API bool WintunRemoveAdapterAddress(WINTUN_ADAPTER_HANDLE Adapter,
					   const char *AddressWithPrefix)
{
	int ret = change_address(Adapter, AddressWithPrefix, false);

	return ret ? wt_fail_bool(ret) : true;
}

static int parse_route(const char *fn, const char *dst_text, const char *gw_text,
		       struct wt_cidr *dst, struct wt_cidr *gw)
{
	int ret = parse_arg(fn, "destination", dst_text, dst);

	if (ret || !gw_text)
		return ret;
	if (wt_ip_parse(gw_text, dst->family, gw)) {
		wt_err("%s: gateway \"%s\" is not an %s address", fn, gw_text,
		       dst->family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	return 0;
}

static int change_route(struct wintun_adapter *a, const char *dst_text, const char *gw_text,
			uint32_t metric, bool add)
{
	const char *fn = add ? "WintunAddAdapterRoute" : "WintunRemoveAdapterRoute";
	struct wt_adapter_nl c;
	struct wt_cidr dst, gw;
	char op[160];
	int ret;

	ret = wt_adapter_nl_begin(a, fn, &c);
	if (ret)
		return ret;
	ret = parse_route(fn, dst_text, gw_text, &dst, &gw);
	if (ret) {
		wt_nl_close(&c.nl);
		return ret;
	}
	snprintf(op, sizeof(op), "%s route %s%s%s metric %u %s", add ? "add" : "remove",
		 dst_text, gw_text ? " via " : "", gw_text ? gw_text : "", metric,
		 add ? "to" : "from");
	ret = wt_nl_route_change(&c.nl, c.ifindex, &dst, gw_text ? &gw : NULL, metric, add);
	return wt_adapter_nl_end(&c, ret, op);
}

WINTUN_API bool WintunAddAdapterRoute(WINTUN_ADAPTER_HANDLE Adapter, const char *Destination,
				      const char *Gateway, uint32_t Metric)
{
	int ret = change_route(Adapter, Destination, Gateway, Metric, true);

	return ret ? wt_fail_bool(ret) : true;
}

WINTUN_API bool WintunRemoveAdapterRoute(WINTUN_ADAPTER_HANDLE Adapter, const char *Destination,
					 const char *Gateway, uint32_t Metric)
{
	int ret = change_route(Adapter, Destination, Gateway, Metric, false);

	return ret ? wt_fail_bool(ret) : true;
}
