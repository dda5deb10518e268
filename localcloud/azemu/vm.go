package azemu

import (
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	vmType   = "Microsoft.Compute/virtualMachines"
	diskType = "Microsoft.Compute/disks"
)

func init() {
	register("vm create", vmCreate)
	register("vm show", locked(vmShow))
	register("vm list", locked(vmList))
	register("vm delete", vmDelete)
	register("vm start", vmStart)
	register("vm stop", vmStop)
	register("vm deallocate", vmDeallocate)
	register("vm restart", vmRestart)
	register("vm update", locked(vmUpdate))
	register("vm run-command invoke", vmRunCommand)
	register("vm list-ip-addresses", locked(vmListIPs))
	register("disk show", locked(diskShow))
	register("disk delete", diskDelete)
}

type imageRef struct{ publisher, offer, sku, version string }

// imageAliases are az's --image aliases for Linux (its online alias list).
var imageAliases = map[string]imageRef{
	"Ubuntu2204":    {"Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "latest"},
	"UbuntuLTS":     {"Canonical", "UbuntuServer", "18.04-LTS", "latest"},
	"Debian11":      {"Debian", "debian-11", "11-backports-gen2", "latest"},
	"Debian":        {"Debian", "debian-10", "10", "latest"},
	"CentOS85Gen2":  {"OpenLogic", "CentOS", "8_5-gen2", "latest"},
	"CentOS":        {"OpenLogic", "CentOS", "7.5", "latest"},
	"openSUSE-Leap": {"SUSE", "opensuse-leap-15-3", "gen2", "latest"},
	"RHEL":          {"RedHat", "RHEL", "7-LVM", "latest"},
	"SLES":          {"SUSE", "sles-15-sp3", "gen2", "latest"},
	"Flatcar":       {"kinvolk", "flatcar-container-linux-free", "stable", "latest"},
}

func resolveImage(image string) (imageRef, error) {
	if image == "" {
		return imageRef{}, cliError("incorrect usage: --image IMAGE | --attach-os-disk DISK")
	}
	if parts := strings.Split(image, ":"); len(parts) == 4 {
		return imageRef{parts[0], parts[1], parts[2], parts[3]}, nil
	}
	for alias, ref := range imageAliases {
		if strings.EqualFold(alias, image) {
			return ref, nil
		}
	}
	var names []string
	for alias := range imageAliases {
		names = append(names, "'"+alias+"'")
	}
	return imageRef{}, cliError("Invalid image \"%s\". Use a valid image URN, custom image name, custom image id, VHD blob URI, or pick an image from [%s].\nSee vm create -h for more information on specifying an image.", image, strings.Join(names, ", "))
}

// sshKey resolves --ssh-key-values as az does: a file path, else the key
// text itself; without it, ~/.ssh/id_rsa.pub.
func sshKey(values []string) (string, error) {
	v := ""
	if len(values) > 0 {
		v = values[0]
	}
	path := v
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".ssh", "id_rsa.pub")
	}
	if data, err := os.ReadFile(path); err == nil {
		return string(data), nil
	}
	if strings.HasPrefix(v, "ssh-") || strings.HasPrefix(v, "ecdsa-") {
		return v, nil
	}
	return "", cliError("An RSA key file or key value must be supplied to SSH Key Value. You can use --generate-ssh-keys to let CLI generate one for you")
}

// readContentIfFile is az's read_content_if_is_file (used for --custom-data).
func readContentIfFile(v string) string {
	if data, err := os.ReadFile(v); err == nil {
		return string(data)
	}
	return v
}

// nextLoopback allocates a loopback address for a new VM (the caller holds
// the lock). Addresses are never reused within a cloud, so a new VM never
// inherits an old host key. Each state dir draws from its own 127.A.x.y
// range (A from a hash of the dir), and an address something already
// listens on is skipped, so that several local clouds (parallel tests) can
// run on one machine side by side.
func (c *cmdCtx) nextLoopback() (string, error) {
	counters, err := c.st.readCounters("counters")
	if err != nil {
		return "", err
	}
	h := fnv.New32a()
	h.Write([]byte(c.st.dir))
	a := 1 + h.Sum32()%254
	for tries := 0; tries < 256; tries++ {
		n := counters["loopback"]
		counters["loopback"]++
		if n >= 254*254 {
			return "", cliError("azemu: out of loopback addresses")
		}
		ip := fmt.Sprintf("127.%d.%d.%d", a, 1+n/254, 1+n%254)
		if !loopbackFree(ip) {
			continue
		}
		if err := c.st.writeCounters("counters", counters); err != nil {
			return "", err
		}
		return ip, nil
	}
	return "", cliError("azemu: no free loopback address for a new VM's sshd")
}

// loopbackFree tells whether nothing listens on ip:22.
func loopbackFree(ip string) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "22"))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func vmCreate(c *cmdCtx) (any, error) {
	inv := c.inv
	customData := ""
	if inv.has("--custom-data") {
		customData = readContentIfFile(inv.str("--custom-data"))
	}
	key, err := sshKey(inv.list("--ssh-key-values"))
	if err != nil {
		return nil, err
	}
	img, err := resolveImage(inv.str("--image"))
	if err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	vm, err := c.createVMRecords(img, key, customData)
	unlock()
	if err != nil {
		return nil, err
	}
	if hostsOn(c.env) {
		if err := c.bootHost(vm, false); err != nil {
			return nil, err
		}
	}
	if inv.flag("--no-wait") {
		return nil, nil
	}
	unlock, err = c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, err := c.vmDetails(vm)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"fqdns": "", "id": str(vm, "id"), "location": str(vm, "location"), "macAddress": d["macAddresses"],
		"powerState": d["powerState"], "privateIpAddress": d["privateIps"], "publicIpAddress": d["publicIps"],
		"resourceGroup": str(vm, "resourceGroup"), "zones": "",
	}, nil
}

// createVMRecords writes the VM and what `az vm create` creates with it:
// VNet and subnet (unless given), NSG <vm>NSG, public IP <vm>PublicIP,
// NIC <vm>VMNic and the OS disk. Caller holds the lock.
func (c *cmdCtx) createVMRecords(img imageRef, key, customData string) (map[string]any, error) {
	inv := c.inv
	g, err := c.group(inv.str("--resource-group"))
	if err != nil {
		return nil, err
	}
	rg, name := str(g, "name"), inv.str("--name")
	if !hostNameOK(name) {
		return nil, armError("InvalidParameter", fmt.Sprintf("Linux host name cannot exceed 64 characters in length or contain the following characters: ` ~ ! @ # $ %% ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?. (computer name '%s')", name))
	}
	id := resID(rg, vmType, name)
	if old, err := c.st.get(id); err != nil {
		return nil, err
	} else if old != nil {
		return nil, armError("Conflict", fmt.Sprintf("A virtual machine named '%s' already exists in resource group '%s'.", str(old, "name"), rg))
	}
	loc := orDefault(normLocation(inv.str("--location")), str(g, "location"))
	s, newVnet, err := c.vmSubnet(rg, name, loc)
	if err != nil {
		return nil, err
	}
	nicID := resID(rg, nicType, name+"VMNic")
	// A NIC left by a deleted VM of the same name: the new deployment takes
	// it over, as an ARM PUT would, so its address goes back to its subnet.
	if old, err := c.st.get(nicID); err != nil {
		return nil, err
	} else if old != nil {
		for _, cfg := range list(old, "ipConfigurations") {
			cm := cfg.(map[string]any)
			sub, same := s, strings.EqualFold(str(cm, "subnet", "id"), str(s, "id"))
			if !same {
				if sub, err = c.st.get(str(cm, "subnet", "id")); err != nil || sub == nil {
					continue
				}
			}
			releaseIP(sub, str(cm, "privateIPAddress"))
			dropRef(sub, "ipConfigurations", str(cm, "id"))
			if !same {
				if err := c.st.put(str(sub, "id"), sub); err != nil {
					return nil, err
				}
			}
		}
	}
	privateIP, err := allocateIP(s)
	if err != nil {
		return nil, err
	}
	loopback, err := c.nextLoopback()
	if err != nil {
		return nil, err
	}
	ipcfgID := nicID + "/ipConfigurations/ipconfig" + name
	var toPut []map[string]any
	// The NIC's NSG as az decides it (azure-cli vm/_validators.py
	// _validate_vm_create_nsg, and build_nsg_resource in _template_builder.py):
	// without --nsg a new <vm>NSG; --nsg "" none; --nsg NAME of an existing
	// NSG attaches it as it is; of a missing one creates it. A new NSG gets
	// default-allow-ssh (priority 1000, TCP 22 from *) unless --nsg-rule NONE.
	nsgID := ""
	if nsg := inv.str("--nsg"); !inv.has("--nsg") || nsg != "" {
		nsg = orDefault(nsg, name+"NSG")
		nsgID = resID(rg, nsgType, nsg)
		if n, err := c.st.get(nsgID); err != nil {
			return nil, err
		} else if n == nil {
			n = newNSG(rg, nsg, loc, map[string]any{})
			if inv.str("--nsg-rule") != "NONE" {
				n["securityRules"] = []any{map[string]any{
					"access": "Allow", "destinationAddressPrefix": "*", "destinationAddressPrefixes": []any{},
					"destinationPortRange": "22", "destinationPortRanges": []any{}, "direction": "Inbound",
					"etag": networkEtag(), "id": nsgID + "/securityRules/default-allow-ssh", "name": "default-allow-ssh",
					"priority": 1000, "protocol": "Tcp", "provisioningState": "Succeeded", "resourceGroup": rg,
					"sourceAddressPrefix": "*", "sourceAddressPrefixes": []any{}, "sourcePortRange": "*",
					"sourcePortRanges": []any{}, "type": "Microsoft.Network/networkSecurityGroups/securityRules",
				}}
			}
			toPut = append(toPut, n)
		}
	}
	pipID := ""
	if pip := inv.str("--public-ip-address"); !inv.has("--public-ip-address") || pip != "" {
		pip = orDefault(pip, name+"PublicIP")
		pipID = resID(rg, publicIPType, pip)
		sku := orDefault(inv.str("--public-ip-sku"), "Standard")
		toPut = append(toPut, map[string]any{
			"etag": networkEtag(), "id": pipID, "idleTimeoutInMinutes": 4, "ipAddress": loopback,
			"ipConfiguration": ref(ipcfgID, rg), "ipTags": []any{}, "location": loc, "name": pip,
			"provisioningState": "Succeeded", "publicIPAddressVersion": "IPv4",
			"publicIPAllocationMethod": map[string]string{"Standard": "Static", "Basic": "Dynamic"}[sku],
			"resourceGroup":            rg, "resourceGuid": newUUID(), "sku": map[string]any{"name": sku, "tier": "Regional"},
			"tags": map[string]any{}, "type": publicIPType,
		})
	}
	nic := newNIC(rg, name+"VMNic", loc, s, privateIP, pipID, nsgID)
	nic["virtualMachine"] = ref(id, rg)
	addRef(s, "ipConfigurations", ipcfgID, rg)
	diskName := inv.str("--os-disk-name") // az's default name when not given:
	if diskName == "" {
		diskName = fmt.Sprintf("%s_OsDisk_1_%s", name, strings.ReplaceAll(newUUID(), "-", ""))
	}
	diskID := resID(rg, diskType, diskName)
	now := nowStamp()
	size := orDefault(inv.str("--size"), "Standard_DS1_v2")
	admin := orDefault(inv.str("--admin-username"), os.Getenv("USER"))
	if admin == "" {
		admin = "azureuser"
	}
	tags := parseTags(inv.list("--tags"))
	vm := newVMRecord(rg, name, loc, size, admin, key, img, nicID, diskName, diskID, now, tags)
	e := emu(vm)
	e["ip"] = loopback
	e["privateIp"] = privateIP
	e["power"] = "running"
	e["sshKey"] = key
	e["customData"] = customData
	disk := newDisk(rg, diskName, loc, img, id, now)
	toPut = append(toPut, s, nic, disk, vm)
	if newVnet != nil {
		toPut = append([]map[string]any{newVnet}, toPut...)
	}
	if err := c.checkDeploymentPolicy(toPut...); err != nil {
		return nil, err
	}
	for _, r := range toPut {
		if err := c.st.put(str(r, "id"), r); err != nil {
			return nil, err
		}
	}
	if err := c.refreshSSH(id); err != nil {
		return nil, err
	}
	return c.st.get(id)
}

func hostNameOK(name string) bool {
	if name == "" || len(name) > 64 || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") ||
		strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return false
	}
	for _, r := range name {
		if !(r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// vmSubnet picks the VM's subnet as az does: --subnet ID, --vnet-name with an
// existing --subnet (which must exist when the VNet does), an existing VNet
// in the group, or a new <vm>VNET/<vm>Subnet, whose VNet it returns too,
// unstored, so that the deployment stores it with the rest.
func (c *cmdCtx) vmSubnet(rg, name, loc string) (map[string]any, map[string]any, error) {
	inv := c.inv
	vnet, subnet := inv.str("--vnet-name"), inv.str("--subnet")
	if strings.Contains(vnet, "/") {
		return nil, nil, cliError("incorrect usage: --subnet ID | --subnet NAME --vnet-name NAME")
	}
	if subnet != "" {
		isID := strings.HasPrefix(subnet, "/subscriptions/")
		if isID == (vnet != "") {
			return nil, nil, cliError("incorrect usage: --subnet ID | --subnet NAME --vnet-name NAME")
		}
		id := subnet
		if !isID {
			id = resID(rg, vnetType, vnet) + "/subnets/" + subnet
		}
		s, err := c.st.get(id)
		if err != nil {
			return nil, nil, err
		}
		if s != nil {
			return s, nil, nil
		}
		if isID {
			return nil, nil, cliError("Subnet '%s' does not exist.", subnet)
		}
		if v, err := c.st.get(resID(rg, vnetType, vnet)); err != nil {
			return nil, nil, err
		} else if v != nil {
			return nil, nil, cliError("Subnet '%s' does not exist in virtual network '%s'.", subnet, vnet)
		}
	} else if vnet == "" {
		vnets, err := c.st.list(collectionID(rg, vnetType))
		if err != nil {
			return nil, nil, err
		}
		for _, v := range vnets {
			if str(v, "location") != loc {
				continue
			}
			subs, err := c.st.list(str(v, "id") + "/subnets")
			if err != nil {
				return nil, nil, err
			}
			for _, s := range subs {
				if !strings.EqualFold(str(s, "name"), "gatewaysubnet") {
					return s, nil, nil
				}
			}
		}
	}
	vnet = orDefault(vnet, name+"VNET")
	subnet = orDefault(subnet, name+"Subnet")
	v := newVnet(rg, vnet, loc, []string{orDefault(inv.str("--vnet-address-prefix"), "10.0.0.0/16")}, map[string]any{})
	s := newSubnet(str(v, "id"), rg, subnet, orDefault(inv.str("--subnet-address-prefix"), "10.0.0.0/24"))
	return s, v, nil
}

// newVMRecord builds a VM in the shape of az-shapes/2.74/vm-show.json (a
// superset of the 2.45 capture).
func newVMRecord(rg, name, loc, size, admin, key string, img imageRef, nicID, diskName, diskID, now string, tags map[string]any) map[string]any {
	return map[string]any{
		"additionalCapabilities": nil, "applicationProfile": nil, "availabilitySet": nil, "billingProfile": nil,
		"capacityReservation": nil, "diagnosticsProfile": nil, "etag": nil, "evictionPolicy": nil,
		"extendedLocation": nil, "extensionsTimeBudget": nil,
		"hardwareProfile": map[string]any{"vmSize": size, "vmSizeProperties": nil},
		"host":            nil, "hostGroup": nil, "id": resID(rg, vmType, name), "identity": nil,
		"instanceView": nil, "licenseType": nil, "location": loc, "managedBy": nil, "name": name,
		"networkProfile": map[string]any{
			"networkApiVersion": nil, "networkInterfaceConfigurations": nil,
			"networkInterfaces": []any{map[string]any{"deleteOption": nil, "id": nicID, "primary": nil, "resourceGroup": rg}},
		},
		"osProfile": map[string]any{
			"adminPassword": nil, "adminUsername": admin, "allowExtensionOperations": true, "computerName": name,
			"customData": nil,
			"linuxConfiguration": map[string]any{
				"disablePasswordAuthentication": true, "enableVmAgentPlatformUpdates": false,
				"patchSettings":    map[string]any{"assessmentMode": "ImageDefault", "automaticByPlatformSettings": nil, "patchMode": "ImageDefault"},
				"provisionVmAgent": true,
				"ssh": map[string]any{"publicKeys": []any{map[string]any{
					"keyData": key, "path": "/home/" + admin + "/.ssh/authorized_keys"}}},
			},
			"requireGuestProvisionSignal": true, "secrets": []any{}, "windowsConfiguration": nil,
		},
		"placement": nil, "plan": nil, "platformFaultDomain": nil, "priority": nil, "provisioningState": "Succeeded",
		"proximityPlacementGroup": nil, "resourceGroup": rg, "resources": nil, "scheduledEventsPolicy": nil,
		"scheduledEventsProfile": nil,
		"securityProfile":        nil,
		"storageProfile": map[string]any{
			"alignRegionalDisksToVmZone": nil, "dataDisks": []any{}, "diskControllerType": nil,
			"imageReference": map[string]any{
				"communityGalleryImageId": nil, "exactVersion": "22.04.202305160", "id": nil, "offer": img.offer,
				"publisher": img.publisher, "sharedGalleryImageId": nil, "sku": img.sku, "version": img.version,
			},
			"osDisk": map[string]any{
				"caching": "ReadWrite", "createOption": "FromImage", "deleteOption": "Detach", "diffDiskSettings": nil,
				"diskSizeGb": 30, "encryptionSettings": nil, "image": nil,
				"managedDisk": map[string]any{"diskEncryptionSet": nil, "id": diskID, "resourceGroup": rg,
					"securityProfile": nil, "storageAccountType": "Premium_LRS"},
				"name": diskName, "osType": "Linux", "vhd": nil, "writeAcceleratorEnabled": nil,
			},
		},
		"tags": tags, "timeCreated": now, "type": vmType, "userData": nil, "virtualMachineScaleSet": nil,
		"vmId": newUUID(), "zones": nil,
	}
}

func newDisk(rg, name, loc string, img imageRef, vmID, now string) map[string]any {
	return map[string]any{
		"burstingEnabled": nil, "burstingEnabledTime": nil, "completionPercent": nil,
		"creationData": map[string]any{"createOption": "FromImage", "galleryImageReference": nil,
			"imageReference": map[string]any{"id": fmt.Sprintf("/Subscriptions/%s/Providers/Microsoft.Compute/Locations/%s/Publishers/%s/ArtifactTypes/VMImage/Offers/%s/Skus/%s/Versions/22.04.202305160",
				subscriptionID, loc, img.publisher, img.offer, img.sku), "lun": nil},
			"logicalSectorSize": nil, "securityDataUri": nil, "sourceResourceId": nil, "sourceUniqueId": nil,
			"sourceUri": nil, "storageAccountId": nil, "uploadSizeBytes": nil},
		"dataAccessAuthMode": nil, "diskAccessId": nil, "diskIOPSReadOnly": nil, "diskIOPSReadWrite": 120,
		"diskMBpsReadOnly": nil, "diskMBpsReadWrite": 25, "diskSizeBytes": 32213303296, "diskSizeGB": 30,
		"diskState": "Attached", "encryption": map[string]any{"diskEncryptionSetId": nil, "type": "EncryptionAtRestWithPlatformKey"},
		"encryptionSettingsCollection": nil, "extendedLocation": nil, "hyperVGeneration": "V2",
		"id": resID(rg, diskType, name), "lastOwnershipUpdateTime": nil, "location": loc, "managedBy": vmID,
		"managedByExtended": nil, "maxShares": nil, "name": name, "networkAccessPolicy": "AllowAll",
		"optimizedForFrequentAttach": nil, "osType": "Linux", "propertyUpdatesInProgress": nil,
		"provisioningState": "Succeeded", "publicNetworkAccess": "Enabled", "purchasePlan": nil,
		"resourceGroup": rg, "securityProfile": nil, "shareInfo": nil,
		"sku": map[string]any{"name": "Premium_LRS", "tier": "Premium"}, "supportedCapabilities": nil,
		"supportsHibernation": nil, "tags": map[string]any{}, "tier": "P4", "timeCreated": now,
		"type": diskType, "uniqueId": newUUID(), "zones": nil,
	}
}

// vm finds a VM by group and name (or --ids), with ARM's errors.
func (c *cmdCtx) vm() (map[string]any, error) {
	vm, _, err := c.resource(c.rgOr(), vmType, c.idOr("--name", "virtualMachines"))
	return vm, err
}

// vmDetails computes what `-d` adds: power state, IPs, MACs.
func (c *cmdCtx) vmDetails(vm map[string]any) (map[string]any, error) {
	var priv, pub, macs []string
	for _, n := range list(vm, "networkProfile", "networkInterfaces") {
		nic, err := c.st.get(str(n.(map[string]any), "id"))
		if err != nil {
			return nil, err
		}
		if nic == nil {
			continue
		}
		macs = append(macs, str(nic, "macAddress"))
		for _, cfg := range list(nic, "ipConfigurations") {
			cm := cfg.(map[string]any)
			priv = append(priv, str(cm, "privateIPAddress"))
			if pid := str(cm, "publicIPAddress", "id"); pid != "" {
				if pip, err := c.st.get(pid); err == nil && pip != nil && str(pip, "ipAddress") != "" {
					pub = append(pub, str(pip, "ipAddress"))
				}
			}
		}
	}
	return map[string]any{
		"fqdns": "", "macAddresses": strings.Join(macs, ","), "powerState": "VM " + orDefault(str(emu(vm), "power"), "running"),
		"privateIps": strings.Join(priv, ","), "publicIps": strings.Join(pub, ","),
	}, nil
}

func (c *cmdCtx) vmView(vm map[string]any, details bool) (map[string]any, error) {
	v := view(vm)
	if !details {
		return v, nil
	}
	d, err := c.vmDetails(vm)
	if err != nil {
		return nil, err
	}
	delete(v, "instanceView")
	for k, x := range d {
		v[k] = x
	}
	return v, nil
}

func vmShow(c *cmdCtx) (any, error) {
	vm, err := c.vm()
	if err != nil {
		return nil, err
	}
	return c.vmView(vm, c.inv.flag("--show-details"))
}

func vmList(c *cmdCtx) (any, error) {
	var all []map[string]any
	var err error
	if rg := c.inv.str("--resource-group"); rg != "" {
		g, gerr := c.group(rg)
		if gerr != nil {
			return nil, gerr
		}
		all, err = c.st.list(collectionID(str(g, "name"), vmType))
	} else {
		all, err = c.st.listAllGroups("providers/" + vmType)
	}
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, vm := range all {
		v, err := c.vmView(vm, c.inv.flag("--show-details"))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// vmDelete deletes the VM and stops and removes its host, but leaves its NIC,
// public IP and OS disk (detached), as az vm delete does.
func vmDelete(c *cmdCtx) (any, error) {
	if err := c.confirm("Are you sure you want to perform this operation?"); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	vm, err := c.vm()
	if e, ok := err.(*azError); ok && strings.Contains(e.stderr, "(ResourceNotFound)") {
		unlock()
		return nil, nil
	}
	if err != nil {
		unlock()
		return nil, err
	}
	if d, _ := c.st.get(str(vm, "storageProfile", "osDisk", "managedDisk", "id")); d != nil {
		d["managedBy"] = nil
		d["diskState"] = "Unattached"
		c.st.put(str(d, "id"), d)
	}
	for _, n := range list(vm, "networkProfile", "networkInterfaces") {
		if nic, _ := c.st.get(str(n.(map[string]any), "id")); nic != nil {
			delete(nic, "virtualMachine")
			c.st.put(str(nic, "id"), nic)
		}
	}
	err = c.st.del(str(vm, "id"))
	if err == nil {
		err = c.syncFirewall() // its address leaves the drop set
	}
	unlock()
	if err != nil {
		return nil, err
	}
	return nil, hostsDestroy(c.st.hostDisk(str(vm, "resourceGroup"), str(vm, "name")))
}

// setPower records a VM's power state.
func (c *cmdCtx) setPower(vm map[string]any, state string) error {
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := c.st.get(str(vm, "id"))
	if err != nil || cur == nil {
		return err
	}
	emu(cur)["power"] = state
	emu(cur)["powerChanged"] = nowStamp()
	return c.st.put(str(cur, "id"), cur)
}

// lockedVM reads the VM under the lock and releases it.
func (c *cmdCtx) lockedVM() (map[string]any, error) {
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.vm()
}

// bootHost boots (or restarts) the VM's host. The state lock is not held:
// booting takes a while and other az calls must go on.
func (c *cmdCtx) bootHost(vm map[string]any, restart bool) error {
	cfg, err := c.hostConfig(vm)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if restart {
		err = hostRestart(ctx, cfg)
	} else {
		err = hostBoot(ctx, cfg)
	}
	if err != nil {
		return armError("VMAgentStatusCommunicationError", fmt.Sprintf("VM '%s' did not start: %v", str(vm, "name"), err))
	}
	// The firewall may have been cleared (az __azemu-down) since the NSG
	// decision; a booted VM gets it back.
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return c.syncFirewall()
}

func vmStart(c *cmdCtx) (any, error) {
	vm, err := c.lockedVM()
	if err != nil {
		return nil, err
	}
	if hostsOn(c.env) {
		if err := c.bootHost(vm, false); err != nil {
			return nil, err
		}
	}
	return nil, c.setPower(vm, "running")
}

func vmStop(c *cmdCtx) (any, error) {
	vm, err := c.lockedVM()
	if err != nil {
		return nil, err
	}
	c.warn("Virtual machine '%s' is being stopped, but it will still incur compute charges. Use 'az vm deallocate' to release the compute resources.", str(vm, "name"))
	return nil, c.stopVM(vm, "stopped")
}

func vmDeallocate(c *cmdCtx) (any, error) {
	vm, err := c.lockedVM()
	if err != nil {
		return nil, err
	}
	return nil, c.stopVM(vm, "deallocated")
}

func (c *cmdCtx) stopVM(vm map[string]any, state string) error {
	if hostsOn(c.env) {
		if err := hostStop(c.st.hostDisk(str(vm, "resourceGroup"), str(vm, "name"))); err != nil {
			return cliError("azemu: stopping host %s: %v", str(vm, "name"), err)
		}
	}
	return c.setPower(vm, state)
}

func vmRestart(c *cmdCtx) (any, error) {
	vm, err := c.lockedVM()
	if err != nil {
		return nil, err
	}
	if p := str(emu(vm), "power"); p == "deallocated" || p == "stopped" {
		return nil, armError("OperationNotAllowed", fmt.Sprintf("Operation 'restart' is not allowed on VM '%s' since the VM is %s.", str(vm, "name"), map[string]string{"deallocated": "deallocated", "stopped": "stopped (deallocated is required to change)"}[p]))
	}
	if hostsOn(c.env) {
		if err := c.bootHost(vm, true); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// vmUpdate supports the generic --set/--remove az offers (tags.K=V, tags.K).
func vmUpdate(c *cmdCtx) (any, error) {
	vm, err := c.vm()
	if err != nil {
		return nil, err
	}
	if tags, ok := vm["tags"].(map[string]any); !ok || tags == nil {
		vm["tags"] = map[string]any{}
	}
	if err := genericUpdate(vm, c.inv.list("--set"), c.inv.list("--remove")); err != nil {
		return nil, err
	}
	if v := c.inv.str("--size"); v != "" {
		vm["hardwareProfile"].(map[string]any)["vmSize"] = v
	}
	if err := c.st.put(str(vm, "id"), vm); err != nil {
		return nil, err
	}
	return view(vm), nil
}

func vmListIPs(c *cmdCtx) (any, error) {
	vms, err := c.st.listAllGroups("providers/" + vmType)
	if err != nil {
		return nil, err
	}
	rg, name := c.inv.str("--resource-group"), c.inv.str("--name")
	out := []any{}
	for _, vm := range vms {
		if rg != "" && !strings.EqualFold(rg, str(vm, "resourceGroup")) || name != "" && !strings.EqualFold(name, str(vm, "name")) {
			continue
		}
		private, public := []any{}, []any{}
		for _, n := range list(vm, "networkProfile", "networkInterfaces") {
			nic, _ := c.st.get(str(n.(map[string]any), "id"))
			if nic == nil {
				continue
			}
			for _, cfg := range list(nic, "ipConfigurations") {
				cm := cfg.(map[string]any)
				private = append(private, str(cm, "privateIPAddress"))
				if pip, _ := c.st.get(str(cm, "publicIPAddress", "id")); pip != nil {
					public = append(public, map[string]any{"id": str(pip, "id"), "ipAddress": str(pip, "ipAddress"),
						"ipAllocationMethod": str(pip, "publicIPAllocationMethod"), "name": str(pip, "name")})
				}
			}
		}
		out = append(out, map[string]any{"virtualMachine": map[string]any{
			"name": str(vm, "name"), "network": map[string]any{"privateIpAddresses": private, "publicIpAddresses": public},
			"resourceGroup": str(vm, "resourceGroup")}})
	}
	return out, nil
}

func diskShow(c *cmdCtx) (any, error) {
	d, _, err := c.resource(c.rgOr(), diskType, c.idOr("--name", "disks"))
	if err != nil {
		return nil, err
	}
	return view(d), nil
}

func diskDelete(c *cmdCtx) (any, error) {
	// Asked before the lock: a prompt must not hold up other az processes.
	if err := c.confirm("Are you sure you want to perform this operation?"); err != nil {
		return nil, err
	}
	unlock, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, id, err := c.resource(c.rgOr(), diskType, c.idOr("--name", "disks"))
	if e, ok := err.(*azError); ok && strings.Contains(e.stderr, "(ResourceNotFound)") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if vm := str(d, "managedBy"); vm != "" {
		return nil, armError("OperationNotAllowed", fmt.Sprintf("Disk %s is attached to VM %s.", str(d, "name"), vm))
	}
	return nil, c.st.del(id)
}
