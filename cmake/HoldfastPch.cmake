# Precompiled headers (HOLDFAST_PCH, on by default): the heavy, stable Qt, QCoro and standard headers
# are parsed once per PCH instead of once per file: 40 % of a file's compile time with g++, half
# with clang (each file still includes what it uses). Only third-party headers: a project header
# in a PCH would reach targets that the layering walls off (tests/layering).
#
# A PCH serves only files compiled with the same options and no other definition of a macro it
# reads, and building one costs as much as several files. So most targets share one of two PCHs,
# each built by a target of its own (holdfast_pch_network in src/, holdfast_pch_widgets in src/gui)
# that links only Qt and QCoro: a target's own extra definitions (QT_TESTLIB_LIB, QT_SQL_LIB,
# QT_TESTCASE_BUILDDIR...) are read by none of these headers. QtTest is left out: its headers read
# QT_TESTCASE_BUILDDIR, which differs per test folder. g++ falls back to the plain headers without
# a word when a PCH does not fit; -Winvalid-pch (an error with HOLDFAST_WERROR) says so; clang
# refuses such a PCH.
option(HOLDFAST_PCH "Precompile the Qt, QCoro and standard headers" ON)

set(HOLDFAST_PCH_STD <algorithm> <array> <chrono> <functional> <memory> <optional> <utility>
    <vector>)
set(HOLDFAST_PCH_QTCORE <QByteArray> <QDir> <QElapsedTimer> <QFile> <QFileInfo> <QHash>
    <QJsonArray> <QJsonDocument> <QJsonObject> <QList> <QLoggingCategory> <QObject> <QPointer>
    <QRegularExpression> <QSet> <QString> <QStringList> <QTimer> <QUrl> <QUuid>)
set(HOLDFAST_PCH_QCORO <QCoroTask> <QCoroTimer> <QCoroSignal> <QCoroFuture>)
set(HOLDFAST_PCH_QTNETWORK <QHostAddress> <QProcess> <QScopeGuard> <QTcpServer> <QTcpSocket>
    <QTemporaryDir>)
set(HOLDFAST_PCH_QTWIDGETS <QApplication> <QComboBox> <QLabel> <QLineEdit> <QPainter>
    <QPlainTextEdit> <QScrollBar> <QTextBlock> <QTextDocument> <QToolButton> <QVBoxLayout>
    <QWidget>)

if(HOLDFAST_PCH AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(holdfast_options INTERFACE -Winvalid-pch)
endif()

# holdfast_pch(<target> <set>...): a PCH of the target's own, of the header sets named (STD is
# always in): QTCORE QCORO QTNETWORK QTWIDGETS. Name only what the target links.
function(holdfast_pch target)
    if(NOT HOLDFAST_PCH)
        return()
    endif()
    set(headers ${HOLDFAST_PCH_STD})
    foreach(set ${ARGN})
        list(APPEND headers ${HOLDFAST_PCH_${set}})
    endforeach()
    target_precompile_headers(${target} PRIVATE ${headers})
endfunction()

# holdfast_pch_donor(<name> SETS <set>... LIBS <lib>...): a target that only builds a shared PCH.
function(holdfast_pch_donor name)
    if(NOT HOLDFAST_PCH)
        return()
    endif()
    cmake_parse_arguments(D "" "" "SETS;LIBS" ${ARGN})
    set(empty ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
    file(CONFIGURE OUTPUT ${empty} CONTENT "// Builds the PCH ${name} (cmake/HoldfastPch.cmake).\n")
    add_library(${name} OBJECT ${empty})
    set_target_properties(${name} PROPERTIES AUTOMOC OFF AUTOUIC OFF AUTORCC OFF)
    target_link_libraries(${name} PRIVATE ${D_LIBS} holdfast_options)
    holdfast_pch(${name} ${D_SETS})
endfunction()

# holdfast_shared_pch(<target> <donor>): the target uses the donor's PCH.
function(holdfast_shared_pch target donor)
    if(HOLDFAST_PCH)
        target_precompile_headers(${target} REUSE_FROM ${donor})
    endif()
endfunction()
