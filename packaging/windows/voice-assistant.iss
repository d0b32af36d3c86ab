; Inno Setup 6.3+ script: the Windows installer of the Voice Assistant, made from the PyInstaller
; bundle in build\pyinstaller\dist\voice-assistant by packaging\windows\build.ps1:
;   iscc /DAppVersion=0.1.0 packaging\windows\voice-assistant.iss
; It cannot be built on the Linux build machine; keep it correct by review (packaging/README.md).
; Paths are relative to this file's folder.

#ifndef AppVersion
  #error Give the version: iscc /DAppVersion=X.Y.Z voice-assistant.iss
#endif
#define AppName "Voice Assistant"
#define AppExe "voice-assistant.exe"
#define Root "..\.."

[Setup]
; The AppId identifies the app to Windows across versions: never change it.
AppId={{9E1D62A0-BBE2-4298-93DB-604F75E5C711}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Voice Assistant contributors
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
LicenseFile={#Root}\LICENSE
OutputDir={#Root}\dist
OutputBaseFilename=voice-assistant-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\resources\icons\voice-assistant.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Installs for the current user without asking for administrator rights; the dialog offers all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
MinVersion=10.0

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; voice-assistant.exe (the window), voice-assistant-cli.exe (--self-test and the subcommands in a
; terminal) and _internal\ with Python, Qt, the models and THIRD-PARTY-LICENSES.txt.
Source: "{#Root}\build\pyinstaller\dist\voice-assistant\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; Nothing to delete on uninstall beyond what [Files] installed: the app writes only under the user's
; profile (settings in AppData\Local\voice-assistant, cached models, logs), which is the user's.
