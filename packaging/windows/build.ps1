# Builds dist\voice-assistant-<version>-windows-x64-setup.exe on Windows, from a clean build
# environment (only the app's runtime dependencies, pinned by packaging\constraints.txt, and
# PyInstaller). It cannot run on the Linux build machine; keep it correct by review.
# Needs: Python 3.11 (the py launcher) and Inno Setup 6.3 or newer.
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

function Invoke-Checked {
    # Native programs report failure by exit code, which $ErrorActionPreference does not see.
    & $args[0] $args[1..($args.Count - 1)]
    if ($LASTEXITCODE -ne 0) { throw "$($args[0]) failed with exit code $LASTEXITCODE" }
}

$venv = "build\bundle-venv"
$python = "$venv\Scripts\python.exe"
Invoke-Checked py -3.11 -m venv --clear $venv
Invoke-Checked $python -m pip install -q --upgrade pip
# PyAudio's Windows wheels carry PortAudio, so nothing else is needed for sound.
Invoke-Checked $python -m pip install -q -c packaging\constraints.txt pyinstaller .
Invoke-Checked "$venv\Scripts\pyinstaller.exe" --noconfirm --log-level WARN `
    --distpath build\pyinstaller\dist --workpath build\pyinstaller\work `
    packaging\voice-assistant.spec

$version = (& $python -c "from importlib.metadata import version; print(version('voice-assistant'))").Trim()
$iscc = Get-Command iscc.exe -ErrorAction SilentlyContinue
$isccPath = if ($iscc) { $iscc.Source } else { "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
Invoke-Checked $isccPath "/DAppVersion=$version" packaging\windows\voice-assistant.iss
Write-Host "Built dist\voice-assistant-$version-windows-x64-setup.exe"
