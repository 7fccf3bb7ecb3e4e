# mk/vsix.mk — `make vsix`: the Azure Pipelines extension
# (azure-pipelines/extension) packed with tfx-cli into
# dist/bosun-azure-pipelines-VERSION.vsix, bundling dist/bosun-linux-amd64
# (built by `make static` first) for BosunInstall@1. The npm registry must
# be reachable (or npm's cache warm). See scripts/vsix.sh for the knobs:
#   make vsix VSIX_BOSUN=./bosun VSIX_VERSION=1.2.0 VSIX_PUBLISHER=myorg
VSIX_BOSUN ?= dist/bosun-linux-amd64
VSIX_OUT ?= dist
VSIX_BUILD ?= build/vsix

.PHONY: vsix
vsix: $(if $(filter dist/bosun-linux-amd64,$(VSIX_BOSUN)),static)
	@BOSUN_BIN="$(VSIX_BOSUN)" VSIX_OUT="$(VSIX_OUT)" VSIX_BUILD="$(VSIX_BUILD)" \
		VSIX_VERSION="$(VSIX_VERSION)" VSIX_PUBLISHER="$(VSIX_PUBLISHER)" scripts/vsix.sh
