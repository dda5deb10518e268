package azemu

// Commands azlin's storage views and clean-up need beyond the first set:
// private endpoint listing and DNS zone groups, and the capacity metrics
// (metrics.go).
func init() {
	register("network private-endpoint list", locked(peList))
	register("network private-endpoint dns-zone-group show", locked(dnsZoneGroupShow))
	register("network private-endpoint dns-zone-group delete", locked(dnsZoneGroupDelete))
	register("monitor metrics list", metricsList)
}

func peList(c *cmdCtx) (any, error) {
	g, err := c.group(c.inv.str("--resource-group"))
	if err != nil {
		return nil, err
	}
	all, err := c.st.list(collectionID(str(g, "name"), peType))
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, pe := range all {
		out = append(out, view(pe))
	}
	return out, nil
}

// zoneGroup finds a private endpoint's DNS zone group record (nil when the
// endpoint exists but the group does not).
func (c *cmdCtx) zoneGroup() (zg map[string]any, id, rg string, err error) {
	pe, peID, err := c.resource(c.inv.str("--resource-group"), peType, c.inv.str("--endpoint-name"))
	if err != nil {
		return nil, "", "", err
	}
	id = peID + "/privateDnsZoneGroups/" + c.inv.str("--name")
	zg, err = c.st.get(id)
	return zg, id, str(pe, "resourceGroup"), err
}

func dnsZoneGroupShow(c *cmdCtx) (any, error) {
	zg, _, rg, err := c.zoneGroup()
	if err != nil {
		return nil, err
	}
	if zg == nil {
		return nil, notFound(peType+"/"+c.inv.str("--endpoint-name")+"/privateDnsZoneGroups", c.inv.str("--name"), rg)
	}
	return view(zg), nil
}

// dnsZoneGroupDelete removes the group; a missing group is a no-op, as
// ARM's 204 for a DELETE of nothing.
func dnsZoneGroupDelete(c *cmdCtx) (any, error) {
	zg, id, _, err := c.zoneGroup()
	if err != nil || zg == nil {
		return nil, err
	}
	return nil, c.st.del(id)
}

func init() {
	register("vm get-instance-view", locked(vmGetInstanceView))
}

// vmGetInstanceView answers `az vm get-instance-view`: the VM with its
// instance view, whose ProvisioningState status carries the time of the
// VM's last operation (create, start, stop, ...). With several --ids, az
// prints a list.
func vmGetInstanceView(c *cmdCtx) (any, error) {
	ids := c.inv.list("--ids")
	if !c.inv.has("--ids") {
		vm, err := c.vm()
		if err != nil {
			return nil, err
		}
		return instanceView(vm), nil
	}
	var out []any
	for _, id := range ids {
		vm, err := c.st.get(id)
		if err != nil {
			return nil, err
		}
		if vm == nil {
			rg, names := parseID(id)
			return nil, notFound(vmType, names["virtualmachines"], rg)
		}
		out = append(out, instanceView(vm))
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// instanceView is the VM with its instance view, in the shape of
// az-shapes/2.74/vm-get-instance-view.json: the OS disk's status, and while
// the VM runs its agent's status and what the agent reports (computer and OS
// name); a deallocated VM has no agent reporting, so those are null.
func instanceView(vm map[string]any) map[string]any {
	v := view(vm)
	power := orDefault(str(emu(vm), "power"), "running")
	changed := orDefault(str(emu(vm), "powerChanged"), str(vm, "timeCreated"))
	succeeded := func(display, message, time any) map[string]any {
		return map[string]any{"code": "ProvisioningState/succeeded", "displayStatus": display,
			"level": "Info", "message": message, "time": time}
	}
	var agent, computer, osName, osVersion any
	if power == "running" {
		agent = map[string]any{"extensionHandlers": []any{}, "vmAgentVersion": "2.9.0.4",
			"statuses": []any{succeeded("Ready", "Guest Agent is running", changed)}}
		computer, osName, osVersion = str(vm, "name"), "ubuntu", "22.04"
	}
	v["instanceView"] = map[string]any{
		"assignedHost": nil, "bootDiagnostics": nil, "computerName": computer,
		"disks": []any{map[string]any{"encryptionSettings": nil, "name": str(vm, "storageProfile", "osDisk", "name"),
			"statuses": []any{succeeded("Provisioning succeeded", nil, str(vm, "timeCreated"))}}},
		"extensions": nil, "hyperVGeneration": "V2", "isVmInStandbyPool": nil, "maintenanceRedeployStatus": nil,
		"osName": osName, "osVersion": osVersion, "patchStatus": nil, "platformFaultDomain": nil,
		"platformUpdateDomain": nil, "rdpThumbPrint": nil,
		"statuses": []any{
			succeeded("Provisioning succeeded", nil, changed),
			map[string]any{"code": "PowerState/" + power, "displayStatus": "VM " + power,
				"level": "Info", "message": nil, "time": nil},
		},
		"vmAgent": agent, "vmHealth": nil,
	}
	return v
}
