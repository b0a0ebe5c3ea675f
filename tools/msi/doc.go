// Package msi builds reproducible Windows Installer packages on Linux from
// WiX v3 templates, with wixl and msibuild (msitools).
//
// A template is rendered with the variables of Vars (see VarNames), checked
// for elements wixl cannot build, and built; what wixl lacks is then added
// by editing tables: the system PATH entry for the component with Id
// "PathEntry", MajorUpgrade scheduling, and the arm64 platform, which wixl
// 0.101 cannot target (it builds x64 and relkit sets the summary information
// Template to "Arm64;1033", as WiX does for -arch arm64; the components are
// 64-bit either way).
//
// Reproducibility: ProductCode and PackageCode are UUIDv5 values under the
// UpgradeCode (ProductCode from the version and architecture, PackageCode
// from the digests of every input); file times in the cabinet and the
// summary information times are the epoch, and the tools run under a clock
// frozen at the epoch by faketime. Two builds of the same inputs are
// byte-identical.
package msi
