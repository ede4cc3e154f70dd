#pragma once

// Small real files for the attachment tests: a 1x1 PNG (a red pixel) and a one-page PDF whose
// text is "Holdfast test PDF" and "Second line of text" (written by hand: five objects, the
// standard Helvetica font, an exact xref table), which Qt's PDF module reads back.

#include <QByteArray>
#include <QString>

namespace holdfast::test {

inline QByteArray tinyPng()
{
    static const char bytes[] =
        "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00"
        "\x00\x01"
        "\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf"
        "\xc0\x00"
        "\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
    return QByteArray(bytes, sizeof(bytes) - 1);
}

inline QByteArray tinyPdf()
{
    static const char bytes[] =
        "%PDF-1.4\n"
        "1 0 obj\n"
        "<< /Type /Catalog /Pages 2 0 R >>\n"
        "endobj\n"
        "2 0 obj\n"
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n"
        "endobj\n"
        "3 0 obj\n"
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> "
        ">> /Contents 5 0 R >>\n"
        "endobj\n"
        "4 0 obj\n"
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\n"
        "endobj\n"
        "5 0 obj\n"
        "<< /Length 77 >>\n"
        "stream\n"
        "BT /F1 12 Tf 72 720 Td 14 TL (Holdfast test PDF) ' (Second line of text) ' ET\n"
        "endstream\n"
        "endobj\n"
        "xref\n"
        "0 6\n"
        "0000000000 65535 f \n"
        "0000000009 00000 n \n"
        "0000000058 00000 n \n"
        "0000000115 00000 n \n"
        "0000000241 00000 n \n"
        "0000000338 00000 n \n"
        "trailer\n"
        "<< /Size 6 /Root 1 0 R >>\n"
        "startxref\n"
        "465\n"
        "%%EOF\n";
    return QByteArray(bytes, sizeof(bytes) - 1);
}

// The text tinyPdf() holds, line by line.
inline QString tinyPdfText()
{
    return QStringLiteral("Holdfast test PDF\nSecond line of text");
}

} // namespace holdfast::test
