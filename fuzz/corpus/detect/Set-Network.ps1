# Set-Network.ps1 - configures a static address (Imagesmith test fixture)
param([string]$Address = "192.0.2.10", [int]$Prefix = 24, [string]$Gateway = "192.0.2.1")
$adapter = Get-NetAdapter | Where-Object Status -eq "Up" | Select-Object -First 1
New-NetIPAddress -InterfaceIndex $adapter.ifIndex -IPAddress $Address -PrefixLength $Prefix -DefaultGateway $Gateway
Set-DnsClientServerAddress -InterfaceIndex $adapter.ifIndex -ServerAddresses "192.0.2.53"
