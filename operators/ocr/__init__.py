"""OCR for the gate.

A small engine interface (detect boxes, recognise crops), the RapidOCR and EasyOCR adapters, and the frame
reader that localises, reads crops at full resolution and applies the reading rules.
"""
