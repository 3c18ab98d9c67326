// ltx ships no types: all the kernel needs of its Element is the class itself, whose
// prototype stands behind the kernel's Element (element.ts), which declares what it offers.
declare module 'ltx/lib/Element.js' {
  export default class Element {}
}
