#pragma once

namespace holdfast {
class Settings;
// Opens the window: on the in-process service, or on a remote one with --connect.
int runGui(int &argc, char **argv, const Settings &settings);
} // namespace holdfast
